import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Api, isNoActiveAction } from './aws.ts';
import { closeGone, finish } from './complete.ts';
import { contextOf, type Ctx, type Outcome, type StepResult, type TickResult } from './context.ts';
import { heartbeatDue, timedOut } from './done.ts';
import type { DrainRecord } from './records.ts';
import { advance } from './step.ts';
import { adopt, drainAllWithoutTable, keepAliveFromAutoScaling, unknownActions, type AutoScalingView } from './reconcile.ts';
import { countBy } from '../shared/count.ts';

// The tick stops starting new records when less than this is left of the invocation.
const TICK_RESERVE_MS = 10_000;
// Heartbeats by instance id go on longer: they are what keeps the hooks alive.
const HEARTBEAT_RESERVE_MS = 5_000;
const TICK_CONCURRENCY = 4;

/**
 * The backstop for lost events. Auto Scaling first (reconcile.ts): every
 * instance in Terminating:Wait gets its heartbeat by instance id before the
 * table is read, so a DynamoDB outage costs no hook, and a pending action the
 * table does not know is adopted. Then every open action gets a heartbeat
 * when due (if Auto Scaling's answer did not cover it), then a done check
 * (with the timeout). Heartbeats first, oldest first, so a slow or throttled
 * ECS never costs an action its hook.
 */
export async function tick(ctx: Ctx): Promise<TickResult> {
  const { deps } = ctx;
  const asgApi = new Api(deps, ctx.cache);
  const view = await keepAliveFromAutoScaling(ctx, asgApi, HEARTBEAT_RESERVE_MS);
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
        result.results.push(await reconcile(ctx, record, result, view));
      } catch (error) {
        // One record's DynamoDB trouble must not keep the tick from the others.
        deps.logger.error('Reconcile of one record failed; the next tick tries again', { ...contextOf(record), error: error as Error });
        deps.metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
        result.results.push({ outcome: 'error', actionId: record.id });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICK_CONCURRENCY, open.length) }, worker));
  deps.logger.info('Reconcile tick', {
    ...summary,
    open: result.open,
    heartbeats: result.heartbeats,
    deferred: result.deferred,
    outcomes: countBy(result.results.map((r) => r.outcome)),
  });
  return result;
}

async function reconcile(ctx: Ctx, record: DrainRecord, tickResult: TickResult, view: AutoScalingView): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  try {
    if (view.gone.has(record.instanceId)) {
      // Auto Scaling just said our hook has no active action for this instance.
      return await closeGone(
        ctx,
        new Api(deps, ctx.cache),
        record,
        'RecordLifecycleActionHeartbeat',
        new Error(`No active Lifecycle Action found with instance ID ${record.instanceId}`),
      );
    }
    // A completing action gets its heartbeats too, even past the drain timeout: the
    // invocation that claimed it may have died, and its claim outlasts HeartbeatTimeout/3.
    const keepAlive = record.state === 'completing' || !timedOut(record.startedAt, deps.settings.drainTimeoutSeconds, now);
    // Kept alive by instance id a moment ago; an instance that Auto Scaling lists but not in
    // Terminating:Wait is asked at once, so that an action that vanished is found this tick.
    const covered = view.alive.has(record.instanceId);
    const doubtful = view.described && !covered && view.instances.has(record.instanceId);
    if (!covered && (doubtful || (keepAlive && heartbeatDue(record.heartbeatAt, deps.settings.heartbeatTimeoutSeconds, now)))) {
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
