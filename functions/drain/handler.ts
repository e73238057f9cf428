import { randomUUID } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { envJson, requireEnv } from '../shared/env.ts';
import { clientConfig, documentClient, lambdaHandler, traced } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/powertools.ts';
import type { DrainDeps } from './context.ts';
import { handleDrainInput } from './dispatch.ts';
import { parseDrainInput } from './input.ts';
import { createDrainRecords } from './records.ts';
import { drainEnvSchema } from './settings.ts';

const config = envJson('DRAIN_CONFIG', drainEnvSchema);
const scope = {
  clusters: config.clusters.map((c) => c.name),
  asgs: config.clusters.flatMap((c) => c.asgs),
  hookName: config.drain.hookName,
};
// Whatever the SDK's adaptive retries do not absorb is left for the next reconcile tick, never slept on here.
const ecs = traced(new ECSClient(clientConfig));
const asg = traced(new AutoScalingClient(clientConfig));
const records = createDrainRecords(documentClient(), requireEnv('TABLE_NAME'));

export const handler = lambdaHandler('drain', async (event, context) => {
  const deps: DrainDeps = {
    ecs,
    asg,
    records,
    logger,
    metrics,
    now: Date.now,
    owner: `${context.awsRequestId}:${randomUUID()}`,
    remainingMs: () => context.getRemainingTimeInMillis(),
    settings: { ...config.drain, clusters: scope.clusters, asgs: scope.asgs },
  };
  return handleDrainInput(deps, parseDrainInput(event, scope));
});
