import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { envJson, requireEnv } from '../shared/env.ts';
import { clientConfig, documentClient, lambdaHandler, traced } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { createStore } from '../shared/store.ts';
import { elbv2Reader } from './elbv2.ts';
import { parseInvocation } from './input.ts';
import { runAudit, type AuditDeps } from './run.ts';
import { auditEnvSchema } from './settings.ts';

const settings = envJson('AUDIT_CONFIG', auditEnvSchema);
const region = requireEnv('AWS_REGION');
// Adaptive retries: a scheduled run reads a whole cluster in a burst, and should slow down rather than fail when ECS throttles it.
const ecs = traced(new ECSClient(clientConfig));
const elbv2 = elbv2Reader(traced(new ElasticLoadBalancingV2Client(clientConfig)));
const sns = traced(new SNSClient(clientConfig));
const store = createStore(documentClient(), requireEnv('TABLE_NAME'));

export const handler = lambdaHandler('audit', async (event, context) => {
  const invocation = parseInvocation(event);
  const deps: AuditDeps = {
    ecs,
    elbv2,
    sns,
    store,
    logger,
    metrics,
    now: Date.now,
    settings,
    region,
    newOwner: () => `${context.awsRequestId}:${randomUUID()}`,
  };
  return runAudit(deps, invocation);
});
