import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Api, isNoActiveAction } from './aws.ts';
import { closeGone, finish } from './complete.ts';
import { contextOf, type Ctx, type Outcome, type StepResult, type TickResult } from './context.ts';
import { heartbeatDue, timedOut } from './done.ts';
import { adopt, drainAllWithoutTable, keepAliveFromAutoScaling, unknownActions } from './reconcile.ts';
import type { DrainRecord } from './records.ts';
import { advance } from './step.ts';
import { STEP_PRIORITY, stepReason, type StepReason } from './triage.ts';
import { countBy } from '../shared/count.ts';

// The tick stops starting new work when less than this is left of the invocation.
const TICK_RESERVE_MS = 10_000;
// Heartbeats by instance id go on longer: they are what keeps the hooks alive.
const HEARTBEAT_RESERVE_MS = 5_000;
const TICK_CONCURRENCY = 4;

/**
 * The backstop for lost events, in passes, so that neither a DynamoDB outage
 * nor a slow or throttled ECS costs an action its hook:
 * 0. Auto Scaling first (reconcile.ts): every instance in Terminating:Wait
 *    gets its heartbeat by instance id before the table is read; a pending
 *    action the table does not know is adopted; without the table, instances
 *    are drained from the ECS API alone;
 * 1. a heartbeat for every open action Auto Scaling's answer did not cover
 *    and that is due one (or that Auto Scaling lists but not as waiting, to
 *    find at once an action that vanished), oldest first, before any ECS call;
 * 2. the container instances of all open drains, 100 per
 *    DescribeContainerInstances call (triage.ts);
 * 3. a step (done check, timeout) only for the drains the triage says need
 *    one, deadlines first. What does not fit in the invocation is left for
 *    the next tick and counted in `deferred`.
 */
export async function tick(ctx: Ctx): Promise<TickResult> {
  const { deps } = ctx;
  const view = await keepAliveFromAutoScaling(ctx, new Api(deps, ctx.cache), HEARTBEAT_RESERVE_MS);
  const summary = { described: view.described, waiting: view.alive.size + view.gone.size, heartbeats: view.heartbeats, adopted: 0 };

  const open: DrainRecord[] = [];
  try {
    for await (const record of deps.records.listOpen()) open.push(record);
  } catch (error) {
    deps.logger.error('Drain table unreachable: hooks kept alive by instance id, instances drained from the ECS API alone', {
      waiting: summary.waiting,
      error: error as Error,
    });
    deps.metrics.addMetric('DrainTableUnavailable', MetricUnit.Count, 1);
    const { results, deferred } = await drainAllWithoutTable(ctx, view, TICK_RESERVE_MS, TICK_CONCURRENCY);
    const result: TickResult = { open: 0, heartbeats: view.heartbeats, results, deferred, autoScaling: summary, tableUnavailable: true };
    deps.logger.info('Reconcile tick without the table', { ...summary, deferred, outcomes: countBy(results.map((r) => r.outcome)) });
    return result;
  }
  for (const instance of unknownActions(view.alive, open)) {
    try {
      const record = await adopt(ctx, instance);
      if (record) {
        open.push(record);
        summary.adopted++;
      }
    } catch (error) {
      deps.logger.error('Could not adopt a pending lifecycle action; its heartbeat went out, the next tick tries again', {
        ...instance,
        error: error as Error,
      });
    }
  }
  open.sort((a, b) => a.heartbeatAt - b.heartbeatAt);

  const result: TickResult = { open: open.length, heartbeats: view.heartbeats, results: [], deferred: 0, autoScaling: summary };
  const gone = new Set<string>();
  // Auto Scaling just said our hook has no active action for these instances.
  const vanished = open.filter((record) => view.gone.has(record.instanceId));
  result.deferred += await inParallel(
    ctx,
    vanished,
    (record) => record,
    async (record) => {
      gone.add(record.id);
      const noAction = new Error(`No active Lifecycle Action found with instance ID ${record.instanceId}`);
      result.results.push(await closeGone(ctx, new Api(deps, ctx.cache), record, 'RecordLifecycleActionHeartbeat', noAction));
    },
  );

  const now = deps.now();
  const due = open.filter((record) => {
    if (gone.has(record.id) || view.alive.has(record.instanceId)) return false;
    // Listed by Auto Scaling but not waiting: asked at once, so that an action that vanished is found this tick.
    const doubtful = view.described && view.instances.has(record.instanceId);
    // A completing action gets its heartbeats too, even past the drain timeout: the
    // invocation that claimed it may have died, and its claim outlasts HeartbeatTimeout/3.
    const keepAlive = record.state === 'completing' || !timedOut(record.startedAt, deps.settings.drainTimeoutSeconds, now);
    return doubtful || (keepAlive && heartbeatDue(record.heartbeatAt, deps.settings.heartbeatTimeoutSeconds, now));
  });
  result.deferred += await inParallel(
    ctx,
    due,
    (record) => record,
    async (record) => {
      const alive = await sendHeartbeat(ctx, record);
      if (alive === 'sent') result.heartbeats++;
      if (alive === 'gone') {
        gone.add(record.id);
        result.results.push({ outcome: 'action-gone', actionId: record.id });
      }
    },
  );

  const live = open.filter((record) => !gone.has(record.id));
  await describeInstances(ctx, live);
  const steps: Array<{ record: DrainRecord; reason: string }> = [];
  for (const record of live) {
    const ci = record.containerInstanceArn ? ctx.cache.containerInstances?.get(record.containerInstanceArn) : undefined;
    const reason = record.state === 'completing' ? 'completing' : stepReason(record, ci, deps.settings, deps.now());
    if (reason) steps.push({ record, reason });
    else result.results.push({ outcome: 'waiting', actionId: record.id });
  }
  const rank = (reason: string) => (reason === 'completing' ? -1 : STEP_PRIORITY.indexOf(reason as StepReason));
  steps.sort((a, b) => rank(a.reason) - rank(b.reason) || a.record.startedAt - b.record.startedAt);
  result.deferred += await inParallel(
    ctx,
    steps,
    (step) => step.record,
    async ({ record }) => {
      result.results.push(await reconcile(ctx, record));
    },
  );

  deps.logger.info('Reconcile tick', {
    ...summary,
    open: result.open,
    heartbeats: result.heartbeats,
    steps: countBy(steps.map((s) => s.reason)),
    deferred: result.deferred,
    outcomes: countBy(result.results.map((r) => r.outcome)),
  });
  return result;
}

/**
 * Runs `work` over `items`, a few at a time, and starts nothing once the
 * invocation is near its end. Returns how many items were left unstarted.
 * One item's failure (DynamoDB trouble, say) never keeps the tick from the others.
 */
async function inParallel<T>(ctx: Ctx, items: readonly T[], recordOf: (item: T) => DrainRecord, work: (item: T) => Promise<void>): Promise<number> {
  const { deps } = ctx;
  let next = 0;
  let left = 0;
  const worker = async () => {
    while (next < items.length) {
      if (deps.remainingMs() < TICK_RESERVE_MS) {
        left = items.length - next;
        next = items.length;
        return;
      }
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        deps.logger.error('Reconcile of one record failed; the next tick tries again', { ...contextOf(recordOf(item)), error: error as Error });
        deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICK_CONCURRENCY, items.length) }, worker));
  return left;
}

/** The container instances of the open drains, described 100 per call and cluster, into the invocation's cache. */
async function describeInstances(ctx: Ctx, records: readonly DrainRecord[]): Promise<void> {
  const { deps } = ctx;
  const byCluster = new Map<string, string[]>();
  for (const r of records) if (r.cluster && r.containerInstanceArn) byCluster.set(r.cluster, [...(byCluster.get(r.cluster) ?? []), r.containerInstanceArn]);
  ctx.cache.containerInstances ??= new Map();
  const api = new Api(deps, ctx.cache);
  for (const [cluster, arns] of byCluster) {
    try {
      for (const [arn, ci] of await api.describeContainerInstances(cluster, [...new Set(arns)])) ctx.cache.containerInstances.set(arn, ci);
    } catch (error) {
      // Its drains wait for the next tick rather than add single calls to an API that refuses batches.
      deps.logger.error('DescribeContainerInstances failed for the open drains of a cluster; the next tick tries again', {
        cluster,
        containerInstances: arns.length,
        error: error as Error,
      });
      deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
    }
  }
}

async function reconcile(ctx: Ctx, record: DrainRecord): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  if (record.state === 'completing') {
    // An invocation claimed the completion and died, or its Complete failed: finish its work.
    if ((record.claimUntil ?? 0) >= now) return { outcome: 'claimed-elsewhere', actionId: record.id };
    const api = new Api(deps, ctx.cache);
    try {
      return await finish(ctx, api, record, record.pendingResult ?? 'CONTINUE', (record.pendingOutcome as Outcome | undefined) ?? 'drained');
    } catch (error) {
      deps.logger.error('Reconcile step failed; the next tick tries again', { ...contextOf(record), error: error as Error });
      deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
      return { outcome: 'error', actionId: record.id };
    } finally {
      await deps.records.increment(record.id, { apiCalls: api.calls });
    }
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
