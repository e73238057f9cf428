import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { putIfAbsent, ttlAfter, type Item, type Store } from '../shared/store.ts';
import type { ReportInput } from './input.ts';
import { emit, type MetricRecord } from './metrics.ts';
import { commandRecordId, commentCluster, reportMarkId } from './plan.ts';
import { classifyInvocation, invocationMetrics, type Classification } from './report.ts';

export interface CollectDeps {
  ssm: SSMClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}

export type CollectResult =
  | { outcome: 'not-final'; commandId: string; instanceId: string; status: string }
  | { outcome: 'duplicate'; commandId: string; instanceId: string }
  | {
      outcome: 'collected';
      commandId: string;
      instanceId: string;
      cluster: string;
      classification: Classification;
      metrics: MetricRecord;
    };

/** GetCommandInvocation Status values that are not final: the event was early, or a newer one will follow. */
const NOT_FINAL = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
// A status event may be delivered again for days (EventBridge retries, our DLQ redrive); the mark outlives that.
const REPORT_MARK_SECONDS = 7 * 86_400;

interface CommandRecord extends Item {
  cluster: string;
  trigger: string;
  dryRun: boolean;
}

/**
 * One "EC2 Command Invocation Status-change Notification" of our document:
 * GetCommandInvocation (the event only says that something changed), classify,
 * publish once per invocation. The cluster comes from the command's table
 * record, else from its Comment, else it is "unknown": the per-instance
 * figures are still right.
 */
export async function collectReport(deps: CollectDeps, input: ReportInput): Promise<CollectResult> {
  const { logger } = deps;
  const ids = { commandId: input.commandId, instanceId: input.instanceId };
  // InvocationDoesNotExist right after the event (eventual consistency) is thrown: Lambda's retry asks again.
  const invocation = await deps.ssm.send(new GetCommandInvocationCommand({ CommandId: input.commandId, InstanceId: input.instanceId }));
  const status = invocation.Status ?? 'unknown';
  if (NOT_FINAL.has(status)) {
    logger.info('Invocation not finished yet: nothing to collect', { ...ids, status, eventStatus: input.status });
    return { outcome: 'not-final', ...ids, status };
  }

  const record = await deps.store.get<CommandRecord>(commandRecordId(input.commandId));
  const cluster = record?.cluster ?? commentCluster(invocation.Comment) ?? 'unknown';
  if (!record) logger.warn('No record of this command: cluster taken from its Comment', { ...ids, comment: invocation.Comment, cluster });

  const classification = classifyInvocation({
    status,
    statusDetails: invocation.StatusDetails ?? status,
    responseCode: invocation.ResponseCode ?? -1,
    stdout: invocation.StandardOutputContent ?? '',
  });
  // Marked before publishing: a crash in between loses one report's metrics, which is
  // better than counting an instance's cleanup twice on every redelivery.
  const mark = await putIfAbsent(deps.store, {
    id: reportMarkId(input.commandId, input.instanceId),
    at: deps.now(),
    expiration: ttlAfter(deps.now(), REPORT_MARK_SECONDS),
  });
  if (!mark.ok) {
    logger.info('Report already collected: duplicate status event', { ...ids, eventId: input.eventId });
    return { outcome: 'duplicate', ...ids };
  }

  const metrics = invocationMetrics({ cluster, instanceId: input.instanceId, commandId: input.commandId, classification });
  emit(deps.metrics, metrics);
  const context = {
    ...ids,
    eventId: input.eventId,
    cluster,
    outcome: classification.outcome,
    reason: classification.reason,
    exitCode: classification.exitCode,
    status,
    statusDetails: invocation.StatusDetails,
    dryRun: record?.dryRun,
    trigger: record?.trigger,
  };
  const output = classification.output;
  if (output.kind === 'unparseable') {
    logger.error('Cleanup report unparseable', {
      ...context,
      why: output.why,
      stdoutTail: (invocation.StandardOutputContent ?? '').slice(-300),
      stderrTail: (invocation.StandardErrorContent ?? '').slice(-300),
    });
  } else if (output.kind === 'truncated') {
    logger.warn('Cleanup report truncated by the script: only the exit status is known', { ...context, errorCount: output.line.errorCount });
  }
  if (classification.outcome === 'failed')
    logger.error('Cleanup failed on an instance', { ...context, errors: output.kind === 'report' ? output.report.errors : undefined });
  else if (classification.outcome === 'undeliverable') logger.warn('Cleanup not delivered: the instance is not reachable through Run Command', context);
  else logger.info('Cleanup report collected', { ...context, report: output.kind === 'report' ? output.report : undefined });
  return { outcome: 'collected', ...ids, cluster, classification, metrics };
}
