import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName } from '../shared/metric-names.ts';
import { isNoActiveAction, type Api } from './aws.ts';
import { contextOf, type Ctx, type Outcome, type StepResult } from './context.ts';
import { revertIfStillInService } from './reconcile.ts';
import type { DrainRecord, LifecycleResult } from './records.ts';

// A claim outlives any invocation (the function's timeout is well below it), so a claim
// left by an invocation that died is taken over by a later tick.
const CLAIM_MS = 3 * 60_000;

/**
 * Completes the lifecycle action once. The claim (open → completing) makes
 * concurrent invocations agree on who calls CompleteLifecycleAction; a failed
 * call gives the claim back for the tick to retry.
 */
export async function finish(ctx: Ctx, api: Api, record: DrainRecord, result: LifecycleResult, outcome: Outcome): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  const claim = await deps.records.claim(record.id, { owner: deps.owner, until: now + CLAIM_MS, now, result, outcome });
  if (!claim.ok) return { outcome: 'claimed-elsewhere', actionId: record.id };
  const claimed = claim.item;
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
 * Retrying can never succeed, so the record is closed at once. If we had set
 * the instance DRAINING and it is still InService, it is given back (ACTIVE).
 */
export async function closeGone(ctx: Ctx, api: Api, record: DrainRecord, operation: string, error: unknown, claimed = false): Promise<StepResult> {
  const { deps } = ctx;
  const now = deps.now();
  if (!claimed && !(await deps.records.claim(record.id, { owner: deps.owner, until: now + CLAIM_MS, now, result: 'CONTINUE', outcome: 'action-gone' })).ok) {
    return { outcome: 'claimed-elsewhere', actionId: record.id };
  }
  await deps.records.close(record.id, deps.owner, { outcome: 'action-gone', closedAt: now, reason: (error as Error)?.message });
  if (record.containerInstanceArn) await deps.records.deleteIndex(record.containerInstanceArn, record.id);
  deps.logger.warn(`${operation}: the lifecycle action is no longer active; drain record closed`, { ...contextOf(record), error: (error as Error)?.message });
  await revertIfStillInService(ctx, api, record);
  report(ctx, record, 'action-gone', undefined, api.calls);
  return { outcome: 'action-gone', actionId: record.id };
}

const OUTCOME_METRIC: Partial<Record<Outcome, MetricName>> = {
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
  logger.info('Lifecycle action completed', {
    ...contextOf(record),
    outcome,
    result,
    durationSeconds: seconds,
    apiCalls,
    checks: record.checks,
    heartbeats: record.heartbeats,
  });
}
