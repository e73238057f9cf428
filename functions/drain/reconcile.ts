import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lifecycleGlobalTimeoutSeconds } from '../shared/config.ts';
import { Api, isNoActiveAction, type LifecycleActionRef } from './aws.ts';
import { contextOf, KEEP_CLOSED_SECONDS, type Ctx, type StepResult } from './context.ts';
import { type Listing, unlistedCount } from './done.ts';
import { actionIdOf, type DrainRecord } from './records.ts';
import { judge, locate } from './step.ts';

/**
 * Auto Scaling and ECS are the source of truth; the table is memory.
 *
 * Every tick first asks Auto Scaling which instances of the configured groups
 * wait in Terminating:Wait and heartbeats each of them by instance id, before
 * it reads the table: a hook stays alive while DynamoDB is throttled or down,
 * and an action whose lifecycle event the bus lost is found all the same.
 * A heartbeat is also the proof that an action is pending: "No active
 * Lifecycle Action found" means there is nothing to drain for it.
 */

/**
 * Where a terminate hook holds an instance: Terminating:Wait, or Warmed:Pending:Wait on a scale-in
 * into a warm pool (EC2 Auto Scaling user guide, "Amazon EC2 Auto Scaling instance lifecycle" and
 * "Warm pool instance lifecycle"). A launch into the warm pool waits in Warmed:Pending:Wait too; its
 * heartbeat for our terminate hook answers "No active Lifecycle Action found" and nothing follows.
 */
export const WAIT_STATES: ReadonlySet<string> = new Set(['Terminating:Wait', 'Warmed:Pending:Wait']);
const HEARTBEAT_CONCURRENCY = 8;

export interface GroupInstance {
  asg: string;
  instanceId: string;
  lifecycleState: string;
}

export interface AutoScalingView {
  /** false when DescribeAutoScalingGroups failed: the tick then relies on the table's records alone. */
  described: boolean;
  /** every instance of the configured groups, by instance id */
  instances: Map<string, GroupInstance>;
  /** instances in Terminating:Wait whose action the heartbeat just proved pending (and kept alive) */
  alive: Map<string, GroupInstance>;
  /** instances in Terminating:Wait for which Auto Scaling has no active action of our hook */
  gone: Set<string>;
  heartbeats: number;
  /** instances in a wait state left without a heartbeat because the invocation ran short of time */
  skipped: number;
}

/** The instances of the configured groups, by id; a group not configured is left out even if Auto Scaling returned it. */
export function instancesOf(groups: readonly AutoScalingGroup[], configured: readonly string[]): Map<string, GroupInstance> {
  const out = new Map<string, GroupInstance>();
  for (const group of groups) {
    const asg = group.AutoScalingGroupName;
    if (!asg || !configured.includes(asg)) continue;
    for (const instance of group.Instances ?? []) {
      if (instance.InstanceId && instance.LifecycleState)
        out.set(instance.InstanceId, { asg, instanceId: instance.InstanceId, lifecycleState: instance.LifecycleState });
    }
  }
  return out;
}

/** Pending actions the table does not know: their event was lost, or arrived while the table was down. */
export function unknownActions(alive: ReadonlyMap<string, GroupInstance>, open: readonly Pick<DrainRecord, 'asg' | 'instanceId'>[]): GroupInstance[] {
  const known = new Set(open.map((r) => `${r.asg}/${r.instanceId}`));
  return [...alive.values()].filter((i) => !known.has(`${i.asg}/${i.instanceId}`));
}

/** Runs `fn` over `items`, `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const refOf = (ctx: Ctx, i: Pick<GroupInstance, 'asg' | 'instanceId'>): LifecycleActionRef => ({
  asg: i.asg,
  instanceId: i.instanceId,
  hookName: ctx.deps.settings.hookName,
  token: '',
  adopted: true,
});

/**
 * Describes the configured groups and heartbeats every instance in a wait state by its id, while
 * more than `reserveMs` of the invocation is left (the rest fall to the records' own heartbeats and
 * the next tick). Never touches the table.
 */
export async function keepAliveFromAutoScaling(ctx: Ctx, api: Api, reserveMs: number): Promise<AutoScalingView> {
  const { deps } = ctx;
  const view: AutoScalingView = { described: false, instances: new Map(), alive: new Map(), gone: new Set(), heartbeats: 0, skipped: 0 };
  try {
    view.instances = instancesOf(await api.describeGroups(deps.settings.asgs), deps.settings.asgs);
    view.described = true;
  } catch (error) {
    deps.logger.error('DescribeAutoScalingGroups failed: this tick keeps alive only the actions the table knows', {
      asgs: deps.settings.asgs,
      error: error as Error,
    });
    deps.metrics.addMetric('AutoScalingDescribeFailed', MetricUnit.Count, 1);
    return view;
  }
  const waiting = [...view.instances.values()].filter((i) => WAIT_STATES.has(i.lifecycleState));
  await forEachLimited(waiting, HEARTBEAT_CONCURRENCY, async (instance) => {
    if (deps.remainingMs() < reserveMs) {
      view.skipped++;
      return;
    }
    try {
      await api.heartbeat(refOf(ctx, instance));
      view.alive.set(instance.instanceId, instance);
      view.heartbeats++;
    } catch (error) {
      // Another group's hook may hold the instance while ours is over: nothing of ours is pending.
      if (isNoActiveAction(error)) view.gone.add(instance.instanceId);
      else {
        deps.logger.error('Heartbeat by instance id failed; the table path and the next tick try again', { ...instance, error: error as Error });
        deps.metrics.addMetric('HeartbeatFailed', MetricUnit.Count, 1);
      }
    }
  });
  if (view.heartbeats) deps.metrics.addMetric('HeartbeatSent', MetricUnit.Count, view.heartbeats);
  if (view.skipped)
    deps.logger.warn('Invocation short of time: some instances in a wait state got no heartbeat by instance id this tick', { skipped: view.skipped });
  return view;
}

/**
 * A record for a pending action the table did not know. Its timers run from
 * now: Auto Scaling does not say when the action began, so the drain timeout
 * can only be later than configured, never earlier.
 */
export async function adopt(ctx: Ctx, instance: GroupInstance): Promise<DrainRecord | undefined> {
  const { deps } = ctx;
  const now = deps.now();
  const record: DrainRecord = {
    id: actionIdOf(instance.asg, instance.instanceId, `adopted-${now}`),
    state: 'open',
    asg: instance.asg,
    instanceId: instance.instanceId,
    token: `adopted-${now}`,
    adopted: true,
    hookName: deps.settings.hookName,
    startedAt: now,
    heartbeatAt: now,
    heartbeats: 1,
    checks: 0,
    apiCalls: 0,
    expiration: Math.floor(now / 1000) + lifecycleGlobalTimeoutSeconds(deps.settings.heartbeatTimeoutSeconds) + KEEP_CLOSED_SECONDS,
  };
  if (!(await deps.records.create(record)).ok) return undefined;
  deps.logger.warn('Lifecycle action found in Terminating:Wait without its event (lost, or it came while the table was down): adopted and drained', {
    ...contextOf(record),
    lifecycleState: instance.lifecycleState,
  });
  deps.metrics.addMetric('DrainAdopted', MetricUnit.Count, 1);
  return record;
}

/**
 * Drains one instance from the APIs alone, for when the table cannot be
 * reached: DRAINING is idempotent, and the action is completed only when ECS
 * shows every counted task STOPPED. Without the table there is no drain
 * timeout (its start is unknown) and no stop-after; the hook's global timeout
 * bounds the wait, and the table path takes over once DynamoDB answers.
 */
export async function drainWithoutTable(ctx: Ctx, api: Api, instance: Pick<GroupInstance, 'asg' | 'instanceId'>): Promise<StepResult> {
  const { deps } = ctx;
  const { logger, metrics } = deps;
  const log = { asg: instance.asg, instanceId: instance.instanceId };
  try {
    const provider = await api.capacityProviderOf(instance.asg);
    if (provider?.autoScalingGroupProvider?.managedDraining === 'ENABLED') return { outcome: 'stood-down' };
    const found = await locate(ctx, api, instance.instanceId, log);
    if (!found) {
      // Without the table nothing records that we looked; the table path decides once it is back.
      logger.info('Table unavailable and the instance is not registered in a configured cluster: heartbeats only', log);
      return { outcome: 'table-unavailable' };
    }
    if (found.instance.status === 'ACTIVE') {
      const failure = await api.setDraining(found.cluster, found.arn);
      if (failure) throw new Error(`UpdateContainerInstancesState DRAINING failed for ${found.arn}: ${failure}`);
      logger.info('Container instance set DRAINING without the table', { ...log, containerInstanceArn: found.arn });
    }
    // With no record to remember what earlier checks learnt, every check is a first one: both listings, every task described.
    const listing: Listing = {
      running: await api.listTasks(found.cluster, found.arn, 'RUNNING'),
      stopped: await api.listTasks(found.cluster, found.arn, 'STOPPED'),
    };
    // drainStartedAt = now: with the start unknown, no standalone task is past its stop-after.
    const { verdict, views } = await judge(
      ctx,
      api,
      found.cluster,
      listing,
      {},
      { drainStartedAt: deps.now(), context: { ...log, containerInstanceArn: found.arn } },
    );
    // Tasks the instance counts but ListTasks does not show yet block too, as on the table path.
    if (!verdict.done || unlistedCount(found.instance, views) > 0) return { outcome: 'table-unavailable', blocking: verdict.blocking.length };
    try {
      await api.completeLifecycleAction(refOf(ctx, instance), 'CONTINUE');
    } catch (error) {
      if (isNoActiveAction(error)) return { outcome: 'action-gone' };
      throw error;
    }
    logger.info('Lifecycle action completed without the table: every task is STOPPED', { ...log, containerInstanceArn: found.arn, stopped: verdict.stopped });
    metrics.addMetric('DrainCompletedWithoutTable', MetricUnit.Count, 1);
    return { outcome: 'drained' };
  } catch (error) {
    logger.error('Drain without the table failed; the next tick tries again', { ...log, error: error as Error });
    metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
    return { outcome: 'error' };
  }
}

/** The instances the tick keeps alive, drained without the table, a few at a time, leaving `reserveMs` of the invocation. */
export async function drainAllWithoutTable(
  ctx: Ctx,
  view: AutoScalingView,
  reserveMs: number,
  concurrency: number,
): Promise<{ results: StepResult[]; deferred: number }> {
  const results: StepResult[] = [];
  let deferred = 0;
  await forEachLimited([...view.alive.values()], concurrency, async (instance) => {
    if (ctx.deps.remainingMs() < reserveMs) {
      deferred++;
      return;
    }
    const api = new Api(ctx.deps, ctx.cache);
    results.push(await drainWithoutTable(ctx, api, instance));
  });
  return { results, deferred };
}

/**
 * After an action we drained for is gone: when its instance is still
 * InService it is not leaving, and a DRAINING container instance would
 * stay empty for good. Set it ACTIVE again, with a log line and a metric.
 * Never throws: the record is closed already, and this is a repair.
 */
export async function revertIfStillInService(ctx: Ctx, api: Api, record: DrainRecord): Promise<boolean> {
  const { deps } = ctx;
  if (record.drainingAt === undefined || !record.cluster || !record.containerInstanceArn) return false;
  try {
    const state = instancesOf(await api.describeGroups([record.asg]), [record.asg]).get(record.instanceId)?.lifecycleState;
    if (state !== 'InService') return false;
    const ci = await api.describeContainerInstance(record.cluster, record.containerInstanceArn);
    if (ci?.status !== 'DRAINING') return false;
    const failure = await api.setActive(record.cluster, record.containerInstanceArn);
    if (failure) throw new Error(`UpdateContainerInstancesState ACTIVE failed: ${failure}`);
    deps.logger.warn('Drain reverted: the lifecycle action is gone and the instance is still InService; container instance set ACTIVE again', {
      ...contextOf(record),
      lifecycleState: state,
    });
    deps.metrics.addMetric('DrainReverted', MetricUnit.Count, 1);
    return true;
  } catch (error) {
    deps.logger.error('Could not check or revert a DRAINING container instance whose action is gone', { ...contextOf(record), error: error as Error });
    deps.metrics.addMetric('DrainRevertFailed', MetricUnit.Count, 1);
    return false;
  }
}
