import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lifecycleGlobalTimeoutSeconds } from '../shared/config.ts';
import { Api, isNoActiveAction, newApiCache, type ApiCache } from './aws.ts';
import { doneTest, heartbeatDue, mayBeDone, serviceOf, taskIdOf, timedOut, type DoneVerdict, type StandalonePolicy } from './done.ts';
import type { DrainInput } from './input.ts';
import { actionIdOf, type DrainRecord, type DrainRecords, type LifecycleResult } from './records.ts';

export interface DrainSettings {
  /** configured cluster names, searched in this order */
  clusters: string[];
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
}

// A claim outlives any invocation (the function's timeout is well below it), so a claim
// left by an invocation that died is taken over by a later tick.
const CLAIM_MS = 3 * 60_000;
// Records stay after closing so that a duplicate delivery of the lifecycle event, which
// EventBridge may send hours later, still finds them and starts nothing.
const KEEP_CLOSED_SECONDS = 7 * 86_400;
// The tick stops starting new records when less than this is left of the invocation.
const TICK_RESERVE_MS = 10_000;
const TICK_CONCURRENCY = 4;

/** One invocation's context: the API caches are shared by all the drains it handles. */
interface Ctx {
  deps: DrainDeps;
  cache: ApiCache;
}

const contextOf = (r: Pick<DrainRecord, 'id' | 'asg' | 'instanceId' | 'containerInstanceArn'>) => ({
  actionId: r.id,
  asg: r.asg,
  instanceId: r.instanceId,
  containerInstanceArn: r.containerInstanceArn,
});

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
  const now = deps.now();
  // The hook's timers run from when the action began, not from when we heard of it.
  const startedAt = input.time !== undefined && input.time <= now ? input.time : now;
  const id = actionIdOf(input.asg, input.instanceId, input.token);
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
    heartbeatAt: startedAt,
    heartbeats: 0,
    checks: 0,
    apiCalls: 0,
    expiration: Math.floor(startedAt / 1000) + lifecycleGlobalTimeoutSeconds(deps.settings.heartbeatTimeoutSeconds) + KEEP_CLOSED_SECONDS,
  };
  if (!(await deps.records.create(record))) {
    deps.logger.info('Duplicate delivery of a lifecycle action: nothing new done', contextOf(record));
    deps.metrics.addMetric('DuplicateDelivery', MetricUnit.Count, 1);
    return { outcome: 'duplicate', actionId: id };
  }
  deps.logger.info('Lifecycle action received', { ...contextOf(record), origin: input.origin, destination: input.destination });
  deps.metrics.addMetric('DrainStarted', MetricUnit.Count, 1);

  // Warm pools (EC2 Auto Scaling user guide, "Warm pool example events"): an instance leaving the
  // warm pool for termination never ran tasks (the ECS agent registers an instance only once it is
  // in service), so there is nothing to drain. An instance going from the group into the warm pool
  // on scale-in is stopped or hibernated: its tasks die exactly as on termination, so it is drained.
  if (input.origin === 'WarmPool') {
    deps.logger.info('Instance leaves the warm pool: nothing runs there, continuing at once', contextOf(record));
    return finish(ctx, new Api(deps, ctx.cache), record, 'CONTINUE', 'warm-pool');
  }
  return advance(ctx, record, 'lifecycle');
}

async function onTaskStopped(ctx: Ctx, input: Extract<DrainInput, { kind: 'task-stopped' }>): Promise<StepResult> {
  const { records, logger } = ctx.deps;
  const index = await records.getIndex(input.containerInstanceArn);
  if (!index) return { outcome: 'not-draining' };
  // STOPPED is a task's last state, so no newer version of it can follow: the only thing to tell
  // apart is a duplicate, which the conditional add to stoppedSeen does.
  const record = await records.addStopped(index.actionId, taskIdOf(input.taskArn));
  if (!record) {
    logger.debug('STOPPED event already seen, or its drain is over', { actionId: index.actionId, taskArn: input.taskArn, version: input.version });
    return { outcome: 'stale', actionId: index.actionId };
  }
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
  const record = await records.advanceCiVersion(index.actionId, input.version);
  if (!record) return { outcome: 'stale', actionId: index.actionId };
  const countsSayEmpty =
    input.runningTasksCount !== undefined && input.runningTasksCount + (input.pendingTasksCount ?? 0) <= (record.excludedRunning ?? 0);
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
  const found = await api.findContainerInstance(deps.settings.clusters, input.instanceId);
  if (!found) {
    deps.logger.info('Spot interruption warning for an instance in none of the configured clusters', { instanceId: input.instanceId });
    return { outcome: 'not-registered' };
  }
  const ci = await api.describeContainerInstance(found.cluster, found.arn);
  if (ci?.status === 'ACTIVE') {
    const failure = await api.setDraining(found.cluster, found.arn);
    if (failure) throw new Error(`UpdateContainerInstancesState DRAINING failed for ${found.arn}: ${failure}`);
    deps.metrics.addMetric('SpotDrainStarted', MetricUnit.Count, 1);
  }
  // The two-minute warning leaves no time for a lifecycle hook to matter: draining now gives the
  // service scheduler the most time to start replacements elsewhere.
  deps.logger.info('Spot interruption warning: instance set DRAINING', { instanceId: input.instanceId, containerInstanceArn: found.arn, status: ci?.status, action: input.action });
  return { outcome: 'waiting' };
}

/**
 * The backstop for lost events: every open action gets a heartbeat when due,
 * then a done check (with the timeout). Heartbeats first, oldest first, so a
 * slow or throttled ECS never costs an action its hook.
 */
async function tick(ctx: Ctx): Promise<TickResult> {
  const { deps } = ctx;
  const open: DrainRecord[] = [];
  for await (const record of deps.records.listOpen()) open.push(record);
  open.sort((a, b) => a.heartbeatAt - b.heartbeatAt);

  const result: TickResult = { open: open.length, heartbeats: 0, results: [], deferred: 0 };
  let next = 0;
  const worker = async () => {
    while (next < open.length) {
      if (deps.remainingMs() < TICK_RESERVE_MS) {
        result.deferred = open.length - next;
        next = open.length;
        return;
      }
      const record = open[next++]!;
      try {
        result.results.push(await reconcile(ctx, record, result));
      } catch (error) {
        // One record's DynamoDB trouble must not keep the tick from the others.
        deps.logger.error('Reconcile of one record failed; the next tick tries again', { ...contextOf(record), error: error as Error });
        deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
        result.results.push({ outcome: 'error', actionId: record.id });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICK_CONCURRENCY, open.length) }, worker));
  deps.logger.info('Reconcile tick', { open: result.open, heartbeats: result.heartbeats, deferred: result.deferred, outcomes: countBy(result.results.map((r) => r.outcome)) });
  return result;
}

async function reconcile(ctx: Ctx, record: DrainRecord, tickResult: TickResult): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  try {
    // A completing action gets its heartbeats too, even past the drain timeout: the
    // invocation that claimed it may have died, and its claim outlasts HeartbeatTimeout/3.
    const keepAlive = record.state === 'completing' || !timedOut(record.startedAt, deps.settings.drainTimeoutSeconds, now);
    if (keepAlive && heartbeatDue(record.heartbeatAt, deps.settings.heartbeatTimeoutSeconds, now)) {
      const alive = await sendHeartbeat(ctx, record);
      if (alive === 'sent') tickResult.heartbeats++;
      if (alive === 'gone') return { outcome: 'action-gone', actionId: record.id };
    }
    if (record.state === 'completing') {
      // An invocation claimed the completion and died, or its Complete failed: finish its work.
      if ((record.claimUntil ?? 0) >= now) return { outcome: 'claimed-elsewhere', actionId: record.id };
      const api = new Api(deps, ctx.cache);
      try {
        return await finish(ctx, api, record, record.pendingResult ?? 'CONTINUE', (record.pendingOutcome as Outcome | undefined) ?? 'drained');
      } finally {
        await deps.records.increment(record.id, { apiCalls: api.calls });
      }
    }
  } catch (error) {
    deps.logger.error('Reconcile step failed; the next tick tries again', { ...contextOf(record), error: error as Error });
    deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
  }
  return advance(ctx, record, 'tick');
}

async function sendHeartbeat(ctx: Ctx, record: DrainRecord): Promise<'sent' | 'gone' | 'failed'> {
  const { deps } = ctx;
  const api = new Api(deps, ctx.cache);
  try {
    await api.heartbeat(record);
  } catch (error) {
    if (isNoActiveAction(error)) {
      await closeGone(ctx, api, record, 'RecordLifecycleActionHeartbeat', error);
      return 'gone';
    }
    deps.logger.error('Heartbeat failed; the next tick tries again', { ...contextOf(record), error: error as Error });
    deps.metrics.addMetric('HeartbeatFailed', MetricUnit.Count, 1);
    return 'failed';
  } finally {
    await deps.records.increment(record.id, { apiCalls: api.calls });
  }
  await deps.records.update(record.id, { heartbeatAt: deps.now() }, { evenIfCompleting: true });
  await deps.records.increment(record.id, { heartbeats: 1 });
  deps.metrics.addMetric('HeartbeatSent', MetricUnit.Count, 1);
  deps.logger.info('Heartbeat sent', { ...contextOf(record), heartbeats: record.heartbeats + 1 });
  return 'sent';
}

// ---------------------------------------------------------------------------------------------
// The drain itself

/**
 * Moves one action forward as far as the API allows, and is safe to run again
 * at any point: find the container instance, stand down or continue when
 * there is nothing to do, set it DRAINING, check, stop standalone tasks past
 * their time, complete when done or when the drain timed out.
 */
async function advance(ctx: Ctx, record: DrainRecord, trigger: string): Promise<StepResult> {
  const api = new Api(ctx.deps, ctx.cache);
  try {
    return await step(ctx, api, record, trigger);
  } finally {
    await ctx.deps.records.increment(record.id, { apiCalls: api.calls }).catch((error) => ctx.deps.logger.warn('Could not count API calls', { actionId: record.id, error }));
  }
}

async function step(ctx: Ctx, api: Api, initial: DrainRecord, trigger: string): Promise<StepResult> {
  const { deps } = ctx;
  const { settings, records, logger, metrics } = deps;
  let record = initial;
  const log = () => ({ ...contextOf(record), trigger });

  try {
    if (!record.containerInstanceArn || !record.cluster) {
      const provider = await api.capacityProviderOf(record.asg);
      if (provider?.autoScalingGroupProvider?.managedDraining === 'ENABLED') {
        // ECS's own termination hook drains this group (managed instance draining); two drainers
        // would fight over the same instance, so ours lets the instance go at once.
        logger.info('Capacity provider has managed draining enabled: standing down, ECS drains this instance', { ...log(), capacityProvider: provider.name });
        return await finish(ctx, api, record, 'CONTINUE', 'stood-down');
      }
      const found = await api.findContainerInstance(settings.clusters, record.instanceId);
      if (!found) {
        logger.info('Instance is not registered in any configured cluster: continuing at once', { ...log(), clusters: settings.clusters });
        return await finish(ctx, api, record, 'CONTINUE', 'not-registered');
      }
      const located = await records.update(record.id, { cluster: found.cluster, containerInstanceArn: found.arn });
      if (!located) return { outcome: 'closed', actionId: record.id };
      record = located;
      await records.putIndex(found.arn, record.id, record.expiration ?? Math.floor(deps.now() / 1000) + KEEP_CLOSED_SECONDS);
    }
    const cluster = record.cluster!;
    const containerInstanceArn = record.containerInstanceArn!;

    const ci = await api.describeContainerInstance(cluster, containerInstanceArn);
    if (!ci || ci.status === 'INACTIVE' || ci.status === 'DEREGISTERING') {
      // ECS no longer places, tracks or replaces tasks for a deregistered instance: nothing to wait for.
      logger.warn('Container instance is no longer registered: continuing', { ...log(), status: ci?.status ?? 'MISSING' });
      return await finish(ctx, api, record, 'CONTINUE', 'deregistered');
    }
    if (ci.status === 'ACTIVE') {
      const failure = await api.setDraining(cluster, containerInstanceArn);
      if (failure) throw new Error(`UpdateContainerInstancesState DRAINING failed: ${failure}`);
      if (record.drainingAt !== undefined) {
        logger.warn('Container instance was set ACTIVE again during its drain: DRAINING again', log());
        metrics.addMetric('DrainReasserted', MetricUnit.Count, 1);
      } else {
        logger.info('Container instance set DRAINING', log());
      }
      const updated = await records.update(record.id, { drainingAt: deps.now() });
      if (!updated) return { outcome: 'closed', actionId: record.id };
      record = updated;
    }

    // A second pass only when a STOPPED event landed while this check was writing its result.
    for (let pass = 0; pass < 2; pass++) {
      const verdict = await check(ctx, api, record);
      if (verdict.done) {
        logger.info('Container instance drained: every task is STOPPED', { ...log(), stopped: verdict.stopped, excluded: verdict.excluded.length });
        return await finish(ctx, api, record, 'CONTINUE', 'drained');
      }
      if (timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) break;
      const outstanding = new Set(verdict.blocking.map((t) => taskIdOf(t.taskArn)));
      const excludedRunning = verdict.excluded.filter((t) => t.lastStatus === 'RUNNING').length;
      const updated = await records.update(record.id, { outstanding, excludedRunning, preflightDone: true, checks: (record.checks ?? 0) + 1 });
      if (!updated) return { outcome: 'closed', actionId: record.id };
      record = updated;
      logger.info('Drain in progress', { ...log(), blocking: verdict.blocking.length, stopped: verdict.stopped, services: verdict.services, sample: verdict.blocking.slice(0, 5).map((t) => `${taskIdOf(t.taskArn)}:${t.lastStatus}`) });
      if (!mayBeDone(record.outstanding, record.stoppedSeen)) return { outcome: 'waiting', actionId: record.id, blocking: verdict.blocking.length };
    }
  } catch (error) {
    if (!timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) {
      // Throttling has had the SDK's retries already; the tick picks the action up again.
      logger.error('Drain step failed; the next tick tries again', { ...log(), error: error as Error });
      metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
      return { outcome: 'error', actionId: record.id };
    }
    logger.error('Drain step failed after the drain timeout: applying the timeout outcome', { ...log(), error: error as Error });
  }

  if (timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) {
    // CONTINUE lets the instance terminate (and the group's other hooks run). ABANDON terminates it
    // too and skips the other hooks, unless the group's instance lifecycle policy retains on abandon
    // (RetentionTriggers.TerminateHookAbandon = retain): then the instance is kept, Retained, with its
    // stuck tasks, for someone to inspect (EC2 Auto Scaling user guide, "Control instance retention
    // with instance lifecycle policies").
    logger.warn('Drain timed out', { ...log(), drainTimeoutSeconds: settings.drainTimeoutSeconds, result: settings.timeoutOutcome, outstanding: pendingCount(record) });
    return finish(ctx, api, record, settings.timeoutOutcome, 'timed-out');
  }
  return { outcome: 'waiting', actionId: record.id, blocking: pendingCount(record) };
}

/** The done test against the API, plus what it asks for: the preflight warning and stopping overdue standalone tasks. */
async function check(ctx: Ctx, api: Api, record: DrainRecord): Promise<DoneVerdict> {
  const { deps } = ctx;
  const { settings, logger, metrics } = deps;
  const cluster = record.cluster!;
  const { tasks, missing } = await api.tasksOn(cluster, record.containerInstanceArn!);
  if (missing.length) logger.info('Listed tasks ECS no longer describes (purged after stopping)', { actionId: record.id, missing: missing.length });
  const needsDaemons = tasks.some((t) => t.lastStatus !== 'STOPPED' && serviceOf({ taskArn: t.taskArn ?? '', group: t.group }) !== undefined);
  const daemonServices = needsDaemons ? await api.daemonServices(cluster) : new Set<string>();
  const views = tasks.filter((t): t is typeof t & { taskArn: string } => typeof t.taskArn === 'string');
  const verdict = doneTest({ tasks: views, daemonServices, standalone: settings.standaloneTasks, drainStartedAt: record.startedAt, now: deps.now() });

  if (!record.preflightDone && verdict.services.length) await preflight(ctx, api, record, verdict.services);

  for (const task of verdict.toStop) {
    const reason = `ecs-caretaker drain: instance ${record.instanceId} is terminating; standalone task stopped after ${settings.standaloneTasks.stopAfterSeconds} s`;
    await api.stopTask(cluster, task.taskArn, reason);
    logger.warn('Standalone task stopped (drain.standaloneTasks.policy stop-after)', { actionId: record.id, taskArn: task.taskArn, group: task.group });
    metrics.addMetric('StandaloneTaskStopped', MetricUnit.Count, 1);
  }
  return verdict;
}

/**
 * A service with minimumHealthyPercent = 100 and maximumPercent = 100 can
 * neither stop a task before its replacement runs nor start the replacement
 * first (ECS developer guide, "Draining container instances"): its tasks stay
 * until the drain times out. Said once per drain, at its first check.
 */
async function preflight(ctx: Ctx, api: Api, record: DrainRecord, serviceNames: string[]): Promise<void> {
  const { logger, metrics } = ctx.deps;
  const services = await api.describeServices(record.cluster!, serviceNames);
  for (const service of services) {
    const dc = service.deploymentConfiguration;
    if (dc?.minimumHealthyPercent === 100 && dc?.maximumPercent === 100) {
      logger.warn('Service cannot move its tasks off a draining instance (minimumHealthyPercent = maximumPercent = 100): the drain will wait for its timeout', {
        ...contextOf(record),
        service: service.serviceName,
        drainTimeoutSeconds: ctx.deps.settings.drainTimeoutSeconds,
      });
      metrics.addMetric('UnmovableService', MetricUnit.Count, 1);
    }
  }
}

/**
 * Completes the lifecycle action once. The claim (open → completing) makes
 * concurrent invocations agree on who calls CompleteLifecycleAction; a failed
 * call gives the claim back for the tick to retry.
 */
async function finish(ctx: Ctx, api: Api, record: DrainRecord, result: LifecycleResult, outcome: Outcome): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  const claimed = await deps.records.claim(record.id, { owner: deps.owner, until: now + CLAIM_MS, now, result, outcome });
  if (!claimed) return { outcome: 'claimed-elsewhere', actionId: record.id };
  try {
    await api.completeLifecycleAction(claimed, result);
  } catch (error) {
    if (isNoActiveAction(error)) return closeGone(ctx, api, claimed, 'CompleteLifecycleAction', error, true);
    await deps.records.release(record.id, deps.owner);
    deps.logger.error('CompleteLifecycleAction failed; the next tick tries again', { ...contextOf(record), result, error: error as Error });
    deps.metrics.addMetric('CompleteFailed', MetricUnit.Count, 1);
    return { outcome: 'error', actionId: record.id };
  }
  await deps.records.close(record.id, deps.owner, { outcome, result, closedAt: deps.now() });
  if (claimed.containerInstanceArn) await deps.records.deleteIndex(claimed.containerInstanceArn, record.id);
  report(ctx, claimed, outcome, result, api.calls);
  return { outcome, actionId: record.id };
}

/**
 * "No active Lifecycle Action found" means the action is over: it timed out
 * to the hook's default result, someone completed it, or the instance is gone.
 * Retrying can never succeed, so the record is closed at once.
 */
async function closeGone(ctx: Ctx, api: Api, record: DrainRecord, operation: string, error: unknown, claimed = false): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  if (!claimed && !(await deps.records.claim(record.id, { owner: deps.owner, until: now + CLAIM_MS, now, result: 'CONTINUE', outcome: 'action-gone' }))) {
    return { outcome: 'claimed-elsewhere', actionId: record.id };
  }
  await deps.records.close(record.id, deps.owner, { outcome: 'action-gone', closedAt: now, reason: (error as Error)?.message });
  if (record.containerInstanceArn) await deps.records.deleteIndex(record.containerInstanceArn, record.id);
  deps.logger.warn(`${operation}: the lifecycle action is no longer active; drain record closed`, { ...contextOf(record), error: (error as Error)?.message });
  report(ctx, record, 'action-gone', undefined, api.calls);
  return { outcome: 'action-gone', actionId: record.id };
}

const OUTCOME_METRIC: Partial<Record<Outcome, string>> = {
  drained: 'DrainCompleted',
  'timed-out': 'DrainTimedOut',
  'stood-down': 'DrainStoodDown',
  'not-registered': 'DrainNotRegistered',
  deregistered: 'DrainDeregistered',
  'warm-pool': 'DrainSkippedWarmPool',
  'action-gone': 'DrainActionGone',
};

function report(ctx: Ctx, record: DrainRecord, outcome: Outcome, result: LifecycleResult | undefined, callsNow: number): void {
  const { metrics, logger, now } = ctx.deps;
  const seconds = Math.max(0, (now() - record.startedAt) / 1000);
  const apiCalls = (record.apiCalls ?? 0) + callsNow;
  metrics.addMetric(OUTCOME_METRIC[outcome] ?? 'DrainClosed', MetricUnit.Count, 1);
  if (outcome === 'drained' || outcome === 'timed-out') {
    metrics.addMetric('DrainDurationSeconds', MetricUnit.Seconds, seconds);
    metrics.addMetric('ApiCallsPerDrain', MetricUnit.Count, apiCalls);
  }
  logger.info('Lifecycle action completed', { ...contextOf(record), outcome, result, durationSeconds: seconds, apiCalls, checks: record.checks, heartbeats: record.heartbeats });
}

const pendingCount = (record: DrainRecord): number => {
  let n = 0;
  for (const id of record.outstanding ?? []) if (!record.stoppedSeen?.has(id)) n++;
  return n;
};

const countBy = (values: string[]): Record<string, number> => values.reduce<Record<string, number>>((acc, v) => ((acc[v] = (acc[v] ?? 0) + 1), acc), {});

