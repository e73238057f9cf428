/**
 * Which open drains the reconcile tick must step through now, and which only
 * wait. Pure, so that each rule is tested with plain data.
 *
 * A step costs a done check (ListTasks pages, DescribeTasks, the container
 * instance): with hundreds of drains open at once the tick cannot afford one
 * per drain per minute within ECS's sustained read rate (20 a second for the
 * whole account's cluster resource reads). One DescribeContainerInstances of
 * 100 instances answers the cheap question first: does ECS still count tasks
 * on the instance beyond those the drain leaves out (daemon, ignored)? Then
 * the drain cannot be done, and only time-bound work (the timeout, stop-after)
 * or a stale check needs a step. The events that may end a drain (STOPPED,
 * container instance changes) still step it at once; the tick is the backstop.
 */
import type { KnownTasks, StandalonePolicy } from './done.ts';
import { mayBeDone, serviceOf, timedOut } from './done.ts';
import type { DrainRecord } from './records.ts';

/** A drain that was not checked for this long gets a full check even when the counts say it cannot be done. */
export const FULL_CHECK_EVERY_MS = 5 * 60_000;

/** The container instance fields the triage reads (DescribeContainerInstances). */
export interface InstanceCounts {
  ec2InstanceId?: string;
  status?: string;
  runningTasksCount?: number;
  pendingTasksCount?: number;
}

export type StepReason =
  | 'not-located'
  | 'instance-mismatch'
  | 'timed-out'
  | 'instance-missing'
  | 'not-draining'
  | 'events-say-done'
  | 'counts-say-empty'
  | 'stop-after-due'
  | 'stale-check';

export interface TriageSettings {
  drainTimeoutSeconds: number;
  standaloneTasks: { policy: StandalonePolicy; stopAfterSeconds: number };
}

/**
 * Why this open drain needs a step now; undefined when the counts of its
 * container instance prove that tasks it waits for still run and nothing is
 * due, or when its container instance could not be described. `ci` is
 * undefined when the batch did not describe it, null when ECS answered MISSING.
 */
export function stepReason(record: DrainRecord, ci: InstanceCounts | null | undefined, settings: TriageSettings, now: number): StepReason | undefined {
  if (!record.containerInstanceArn || record.checks === 0 || record.checks === undefined) return 'not-located';
  if (timedOut(record.startedAt, settings.drainTimeoutSeconds, now)) return 'timed-out';
  // Not described (the batch failed): wait for the next tick rather than add single calls to a refusing API.
  if (ci === undefined) return undefined;
  if (ci === null) return 'instance-missing';
  // ECS describes the stored location as another EC2 instance's: the step forgets it and never drains it.
  if (ci.ec2InstanceId !== undefined && ci.ec2InstanceId !== record.instanceId) return 'instance-mismatch';
  if (ci.status !== 'DRAINING') return 'not-draining';
  if (mayBeDone(record.outstanding, record.stoppedSeen)) return 'events-say-done';
  const counted = (ci.runningTasksCount ?? 0) + (ci.pendingTasksCount ?? 0);
  if (counted <= (record.excludedRunning ?? 0)) return 'counts-say-empty';
  const { policy, stopAfterSeconds } = settings.standaloneTasks;
  if (policy === 'stop-after' && now >= record.startedAt + stopAfterSeconds * 1000 && standaloneRunning(record.knownTasks)) return 'stop-after-due';
  if (now - (record.checkedAt ?? record.startedAt) >= FULL_CHECK_EVERY_MS) return 'stale-check';
  return undefined;
}

const standaloneRunning = (known: KnownTasks | undefined): boolean =>
  Object.values(known ?? {}).some((t) => !t.stopped && serviceOf({ taskArn: '', group: t.group }) === undefined);

/** Steps in this order when time is short: the ones bound by a deadline, then those most likely to complete. */
export const STEP_PRIORITY: readonly StepReason[] = [
  'instance-mismatch',
  'timed-out',
  'not-located',
  'not-draining',
  'instance-missing',
  'events-say-done',
  'counts-say-empty',
  'stop-after-due',
  'stale-check',
];
