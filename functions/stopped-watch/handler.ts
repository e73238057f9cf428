import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { envJson, requireEnv } from '../shared/env.ts';
import { clientConfig, lambdaHandler, traced } from '../shared/lambda.ts';
import { logger, metrics, MetricUnit } from '../shared/powertools.ts';
import { createStore } from '../shared/store.ts';
import { alertStoreOn } from './alert-store.ts';
import { parseInvocation } from './input.ts';
import { stoppedWatchEnvSchema } from './settings.ts';
import { BatchFailedError, flushAlerts, patternsFor, processRecords, type WatchDeps } from './watch.ts';

const settings = envJson('STOPPED_WATCH_CONFIG', stoppedWatchEnvSchema);
const region = requireEnv('AWS_REGION');
const tableName = requireEnv('TABLE_NAME');
// Standard, not adaptive, retries. After one throttle, adaptive mode caps a client near the rate it
// measured, and a function that sees an event every few minutes measures almost nothing: in the
// simulator, four back-to-back DynamoDB calls then took 1.7 s instead of 16 ms, on every later
// invocation of the instance. Standard mode keeps the same attempts and backoff without that cap.
const retry = { ...clientConfig, retryMode: 'standard' } as const;
const sns = traced(new SNSClient(retry));
const events = traced(new EventBridgeClient(retry));
const doc = DynamoDBDocumentClient.from(traced(new DynamoDBClient(retry)), { marshallOptions: { removeUndefinedValues: true } });
const store = createStore(doc, tableName);
const alerts = alertStoreOn(store);
const patterns = patternsFor(settings);

export const handler = lambdaHandler('stopped-watch', async (event, context) => {
  const deps: WatchDeps = {
    sns,
    events,
    alerts,
    store,
    logger,
    metrics,
    now: Date.now,
    settings,
    region,
    newOwner: () => `${context.awsRequestId}:${randomUUID()}`,
    patterns,
  };
  const invocation = parseInvocation(event);
  if (invocation.kind === 'flush') {
    metrics.addMetric('FlushRuns', MetricUnit.Count, 1);
    const report = await flushAlerts(deps);
    logger.info('Alert flush done', { ...report });
    return report;
  }
  metrics.addMetric('EventsReceived', MetricUnit.Count, invocation.records.length);
  const report = await processRecords(deps, invocation.records);
  // Every record was handled; failing now makes Lambda retry the invocation and, at last, park it in the DLQ.
  if (report.failed > 0) throw new BatchFailedError(report);
  return report;
});
