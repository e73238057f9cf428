import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ApiCache } from './aws.ts';
import type { StandalonePolicy } from './done.ts';
import type { DrainRecord, DrainRecords, LifecycleResult } from './records.ts';

/**
 * What the drain modules share: their dependencies, the results they return
 * and one invocation's context. dispatch.ts routes an input, step.ts moves one
 * action forward, complete.ts completes it, tick.ts is the reconcile schedule.
 */

export interface DrainSettings {
  /** configured cluster names, searched in this order */
  clusters: string[];
  /** configured Auto Scaling groups, which the tick asks for instances in Terminating:Wait */
  asgs: string[];
  hookName: string;
  heartbeatTimeoutSeconds: number;
  drainTimeoutSeconds: number;
  timeoutOutcome: LifecycleResult;
  standaloneTasks: { policy: StandalonePolicy; stopAfterSeconds: number };
  spotInterruption: boolean;
}

export interface DrainDeps {
  ecs: ECSClient;
  asg: AutoScalingClient;
  records: DrainRecords;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** Identifies this invocation in completion claims. */
  owner: string;
  /** How long the invocation may still run; the tick stops starting new work near the end. */
  remainingMs: () => number;
  settings: DrainSettings;
}

/** How an invocation ended for one lifecycle action, for logs and tests. */
export type Outcome =
  | 'drained'
  | 'timed-out'
  | 'stood-down'
  | 'not-registered'
  | 'deregistered'
  | 'warm-pool'
  | 'action-gone'
  | 'waiting'
  | 'duplicate'
  | 'not-draining'
  | 'stale'
  | 'closed'
  | 'claimed-elsewhere'
  /** Auto Scaling has no pending action for the event (a replay, a test event, a stale token). */
  | 'not-pending'
  /** The table could not be reached: the instance was drained from the ECS and Auto Scaling APIs alone. */
  | 'table-unavailable'
  | 'error';

export interface StepResult {
  outcome: Outcome;
  actionId?: string;
  blocking?: number;
}

export interface TickResult {
  open: number;
  heartbeats: number;
  results: StepResult[];
  /** records left for the next tick because this invocation ran out of time */
  deferred: number;
  /** Auto Scaling's view, heartbeats by instance id included (reconcile.ts) */
  autoScaling?: { described: boolean; waiting: number; heartbeats: number; adopted: number };
  /** the table could not be read: the instances were drained without it */
  tableUnavailable?: boolean;
}

// Records stay after closing so that a duplicate delivery of the lifecycle event, which
// EventBridge may send hours later, still finds them and starts nothing.
export const KEEP_CLOSED_SECONDS = 7 * 86_400;

/** One invocation's context: the API caches are shared by all the drains it handles. */
export interface Ctx {
  deps: DrainDeps;
  cache: ApiCache;
}

export const contextOf = (r: Pick<DrainRecord, 'id' | 'asg' | 'instanceId' | 'containerInstanceArn'>) => ({
  actionId: r.id,
  asg: r.asg,
  instanceId: r.instanceId,
  containerInstanceArn: r.containerInstanceArn,
});

export const pendingCount = (record: DrainRecord): number => {
  let n = 0;
  for (const id of record.outstanding ?? []) if (!record.stoppedSeen?.has(id)) n++;
  return n;
};
