import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Api, isNoActiveAction } from './aws.ts';
import { closeGone, finish } from './complete.ts';
import { contextOf, type Ctx, type Outcome, type StepResult, type TickResult } from './context.ts';
import { heartbeatDue, timedOut } from './done.ts';
import type { DrainRecord } from './records.ts';
import { advance } from './step.ts';
import { countBy } from '../shared/count.ts';

// The tick stops starting new records when less than this is left of the invocation.
const TICK_RESERVE_MS = 10_000;
const TICK_CONCURRENCY = 4;

/**
 * The backstop for lost events: every open action gets a heartbeat when due,
 * then a done check (with the timeout). Heartbeats first, oldest first, so a
 * slow or throttled ECS never costs an action its hook.
 */
export async function tick(ctx: Ctx): Promise<TickResult> {
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
  deps.logger.info('Reconcile tick', {
    open: result.open,
    heartbeats: result.heartbeats,
    deferred: result.deferred,
    outcomes: countBy(result.results.map((r) => r.outcome)),
  });
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
