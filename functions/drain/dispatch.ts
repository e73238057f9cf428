import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lifecycleGlobalTimeoutSeconds } from '../shared/config.ts';
import { Api, isNoActiveAction, newApiCache } from './aws.ts';
import { contextOf, KEEP_CLOSED_SECONDS, pendingCount, type Ctx, type DrainDeps, type StepResult, type TickResult } from './context.ts';
import { mayBeDone, taskIdOf } from './done.ts';
import { actionStart, type DrainInput } from './input.ts';
import { actionIdOf, type DrainRecord } from './records.ts';
import { drainWithoutTable } from './reconcile.ts';
import { advance, locate } from './step.ts';
import { tick } from './tick.ts';

export async function handleDrainInput(deps: DrainDeps, input: DrainInput): Promise<StepResult | TickResult> {
  const ctx: Ctx = { deps, cache: newApiCache() };
  switch (input.kind) {
    case 'lifecycle':
      return onLifecycle(ctx, input);
    case 'task-stopped':
      return onTaskStopped(ctx, input);
    case 'container-instance':
      return onContainerInstance(ctx, input);
    case 'spot':
      return onSpotInterruption(ctx, input);
    case 'tick':
      return tick(ctx);
    case 'ignored':
      deps.logger.info('Event ignored', { reason: input.reason });
      return { outcome: 'not-draining' };
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

async function onLifecycle(ctx: Ctx, input: Extract<DrainInput, { kind: 'lifecycle' }>): Promise<StepResult> {
  const { deps } = ctx;
  // The hook's timers run from when the action began, not from when we heard of it, if the event's time is plausible.
  const now = deps.now();
  const { startedAt, distrust } = actionStart(input.time, now, deps.settings.heartbeatTimeoutSeconds);
  const id = actionIdOf(input.asg, input.instanceId, input.token);
  if (distrust) {
    deps.logger.warn('Lifecycle event time is not plausible: the drain timeout runs from now instead', {
      actionId: id,
      asg: input.asg,
      instanceId: input.instanceId,
      eventTime: new Date(distrust.eventTime).toISOString(),
      reason: distrust.reason,
      heartbeatTimeoutSeconds: deps.settings.heartbeatTimeoutSeconds,
    });
    deps.metrics.addMetric('EventTimeDistrusted', MetricUnit.Count, 1);
  }
  const action = { id, asg: input.asg, instanceId: input.instanceId, token: input.token, hookName: input.hookName };

  // Prove the action is pending before draining for it: a replay from an archive, a console test
  // event or a stale token would otherwise leave a running instance DRAINING for good. The heartbeat
  // also keeps the hook alive whatever the table does next.
  const api = new Api(deps, ctx.cache);
  try {
    await api.heartbeat(action);
  } catch (error) {
    if (isNoActiveAction(error)) {
      deps.logger.warn('Lifecycle event for an action Auto Scaling does not have pending (a replay, a test event, a stale token): nothing to drain', {
        ...contextOf(action),
        error: (error as Error).message,
      });
      deps.metrics.addMetric('StrayLifecycleEvent', MetricUnit.Count, 1);
      return { outcome: 'not-pending', actionId: id };
    }
    // Not proven either way: Lambda retries the event, and the tick finds the action in Terminating:Wait.
    deps.logger.error('Heartbeat failed before the drain started; retried by Lambda and found by the tick', { ...contextOf(action), error: error as Error });
    throw error;
  }
  deps.metrics.addMetric('HeartbeatSent', MetricUnit.Count, 1);
  const record: DrainRecord = {
    id,
    state: 'open',
    asg: input.asg,
    instanceId: input.instanceId,
    token: input.token,
    hookName: input.hookName,
    origin: input.origin,
    destination: input.destination,
    startedAt,
    heartbeatAt: now,
    heartbeats: 1,
    checks: 0,
    apiCalls: 0,
    expiration: Math.floor(startedAt / 1000) + lifecycleGlobalTimeoutSeconds(deps.settings.heartbeatTimeoutSeconds) + KEEP_CLOSED_SECONDS,
  };
  let created: Awaited<ReturnType<typeof deps.records.create>>;
  try {
    created = await deps.records.create(record);
  } catch (error) {
    // The hook is alive (heartbeat above) and the tick adopts the action once the table answers;
    // meanwhile the instance is set DRAINING so that ECS starts moving its tasks now.
    deps.logger.error('Drain table unreachable: draining from the ECS API alone, the tick adopts the action later', {
      ...contextOf(record),
      error: error as Error,
    });
    deps.metrics.addMetric('DrainTableUnavailable', MetricUnit.Count, 1);
    return { ...(await drainWithoutTable(ctx, api, record)), actionId: id };
  }
  if (!created.ok) {
    deps.logger.info('Duplicate delivery of a lifecycle action: nothing new done', contextOf(record));
    deps.metrics.addMetric('DuplicateDelivery', MetricUnit.Count, 1);
    return { outcome: 'duplicate', actionId: id };
  }
  deps.logger.info('Lifecycle action received', { ...contextOf(record), origin: input.origin, destination: input.destination });
  deps.metrics.addMetric('DrainStarted', MetricUnit.Count, 1);

  return advance(ctx, record, 'lifecycle');
}

async function onTaskStopped(ctx: Ctx, input: Extract<DrainInput, { kind: 'task-stopped' }>): Promise<StepResult> {
  const { records, logger } = ctx.deps;
  const index = await records.getIndex(input.containerInstanceArn);
  if (!index) return { outcome: 'not-draining' };
  // STOPPED is a task's last state, so no newer version of it can follow: the only thing to tell
  // apart is a duplicate, which the conditional add to stoppedSeen does.
  const added = await records.addStopped(index.actionId, taskIdOf(input.taskArn));
  if (!added.ok) {
    logger.debug('STOPPED event already seen, or its drain is over', { actionId: index.actionId, taskArn: input.taskArn, version: input.version });
    return { outcome: 'stale', actionId: index.actionId };
  }
  const record = added.item;
  // The event only says when checking is worth it; the API decides (never complete on an event alone).
  if (!mayBeDone(record.outstanding, record.stoppedSeen)) return { outcome: 'waiting', actionId: record.id, blocking: pendingCount(record) };
  return advance(ctx, record, 'task-stopped');
}

async function onContainerInstance(ctx: Ctx, input: Extract<DrainInput, { kind: 'container-instance' }>): Promise<StepResult> {
  const { records } = ctx.deps;
  const index = await records.getIndex(input.containerInstanceArn);
  if (!index) return { outcome: 'not-draining' };
  // detail.version grows with every change of the container instance: an older or equal one is a
  // duplicate or arrived out of order, and says nothing new (ECS developer guide, "Handling events").
  const advanced = await records.advanceCiVersion(index.actionId, input.version);
  if (!advanced.ok) return { outcome: 'stale', actionId: index.actionId };
  const record = advanced.item;
  const countsSayEmpty = input.runningTasksCount !== undefined && input.runningTasksCount + (input.pendingTasksCount ?? 0) <= (record.excludedRunning ?? 0);
  if (input.status === 'DRAINING' && !countsSayEmpty && !mayBeDone(record.outstanding, record.stoppedSeen)) {
    return { outcome: 'waiting', actionId: record.id, blocking: pendingCount(record) };
  }
  return advance(ctx, record, 'container-instance');
}

async function onSpotInterruption(ctx: Ctx, input: Extract<DrainInput, { kind: 'spot' }>): Promise<StepResult> {
  const { deps } = ctx;
  if (!deps.settings.spotInterruption) {
    deps.logger.info('Spot interruption warning ignored: drain.spotInterruption is off', { instanceId: input.instanceId });
    return { outcome: 'not-draining' };
  }
  const api = new Api(deps, ctx.cache);
  const found = await locate(ctx, api, input.instanceId, { trigger: 'spot' });
  if (!found) {
    deps.logger.info('Spot interruption warning for an instance in none of the configured clusters', { instanceId: input.instanceId });
    return { outcome: 'not-registered' };
  }
  const ci = found.instance;
  if (ci.status === 'ACTIVE') {
    const failure = await api.setDraining(found.cluster, found.arn);
    if (failure) throw new Error(`UpdateContainerInstancesState DRAINING failed for ${found.arn}: ${failure}`);
    deps.metrics.addMetric('SpotDrainStarted', MetricUnit.Count, 1);
  }
  // The two-minute warning leaves no time for a lifecycle hook to matter: draining now gives the
  // service scheduler the most time to start replacements elsewhere.
  deps.logger.info('Spot interruption warning: instance set DRAINING', {
    instanceId: input.instanceId,
    containerInstanceArn: found.arn,
    status: ci.status,
    action: input.action,
  });
  return { outcome: 'waiting' };
}
