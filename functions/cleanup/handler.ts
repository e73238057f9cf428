import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { envJson, requireEnv } from '../shared/env.ts';
import { clientConfig, documentClient, lambdaHandler, traced } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { createStore } from '../shared/store.ts';
import { collectReport } from './collect.ts';
import { parseCleanupInput } from './input.ts';
import { throttlingOnlyRetryStrategy } from './retry.ts';
import { runCleanup } from './run.ts';
import { cleanupEnvSchema, type CleanupSettings } from './settings.ts';

const settings: CleanupSettings = { ...envJson('CLEANUP_CONFIG', cleanupEnvSchema), documentName: requireEnv('CLEANUP_DOCUMENT_NAME') };
const ecs = traced(new ECSClient(clientConfig));
const ssm = traced(new SSMClient(clientConfig));
const ssmSend = traced(new SSMClient({ ...clientConfig, retryStrategy: throttlingOnlyRetryStrategy(clientConfig.maxAttempts) }));
const store = createStore(documentClient(), requireEnv('TABLE_NAME'));

export const handler = lambdaHandler('cleanup', async (event, context) => {
  const input = parseCleanupInput(event, {
    clusters: settings.clusters,
    dryRun: settings.cleanup.dryRun,
    alarmNamePrefix: settings.alarmNamePrefix,
    documentName: settings.documentName,
  });
  switch (input.kind) {
    case 'ignore':
      logger.info('Nothing to do', { reason: input.reason });
      return { outcome: 'ignored' as const, reason: input.reason };
    case 'report':
      return collectReport({ ssm, store, logger, metrics, now: Date.now }, input);
    case 'run':
      return runCleanup({ ecs, ssm, ssmSend, store, logger, metrics, now: Date.now, owner: `${context.awsRequestId}:${randomUUID()}`, settings }, input);
  }
});
