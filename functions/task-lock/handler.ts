import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { envJson, requireEnv } from '../shared/env.ts';
import { clientConfig, documentClient, lambdaHandler, traced } from '../shared/lambda.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { createStore } from '../shared/store.ts';
import { parseInvocation } from './invocation.ts';
import { releaseOnStopped, runOccurrence, type TaskLockDeps } from './lock.ts';
import { taskLockEnvSchema } from './settings.ts';

const config = envJson('TASK_LOCK_CONFIG', taskLockEnvSchema);
// RunTask is safe to retry: its clientToken makes a repeated call return the first task.
const ecs = traced(new ECSClient(clientConfig));
const store = createStore(documentClient(), requireEnv('TABLE_NAME'));

export const handler = lambdaHandler('task-lock', async (event, context) => {
  const deps: TaskLockDeps = {
    ecs,
    store,
    logger,
    metrics,
    now: Date.now,
    remainingMs: () => context.getRemainingTimeInMillis(),
    jobs: config.jobs,
    lockRetentionHours: config.lockRetentionHours,
    deployment: config.deployment,
  };
  const invocation = parseInvocation(event, config.jobs, config.scheduleNames);
  if (invocation.kind === 'task-stopped') return releaseOnStopped(deps, invocation);
  return runOccurrence(deps, invocation, `${context.awsRequestId}:${randomUUID()}`);
});
