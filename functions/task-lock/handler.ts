import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { jobSchema } from '../shared/config.ts';
import { envJson, requireEnv } from '../shared/env.ts';
import { logger, metrics, tracer } from '../shared/powertools.ts';
import { createStore } from '../shared/store.ts';
import { parseInvocation } from './invocation.ts';
import { releaseOnStopped, runOccurrence, type TaskLockDeps } from './lock.ts';

/** What serverless.ts puts in TASK_LOCK_CONFIG. */
export const taskLockEnvSchema = z.object({
  jobs: z.array(jobSchema),
  /** job name -> the rule or schedule name that triggers it */
  scheduleNames: z.record(z.string(), z.string()),
  lockRetentionHours: z.int().check(z.positive()),
});

const config = envJson('TASK_LOCK_CONFIG', taskLockEnvSchema);
// Adaptive retry spaces out throttled calls (SDK retry strategies); RunTask is safe to retry thanks to its clientToken.
const ecs = tracer.captureAWSv3Client(new ECSClient({ retryMode: 'adaptive', maxAttempts: 5 }));
const ddb = tracer.captureAWSv3Client(new DynamoDBClient({ retryMode: 'adaptive', maxAttempts: 5 }));
const store = createStore(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), requireEnv('TABLE_NAME'));

async function taskLock(event: unknown, context: Context) {
  const deps: TaskLockDeps = {
    ecs,
    store,
    logger,
    metrics,
    now: Date.now,
    remainingMs: () => context.getRemainingTimeInMillis(),
    jobs: config.jobs,
    lockRetentionHours: config.lockRetentionHours,
  };
  try {
    const invocation = parseInvocation(event, config.jobs, config.scheduleNames);
    if (invocation.kind === 'task-stopped') return await releaseOnStopped(deps, invocation);
    return await runOccurrence(deps, invocation, `${context.awsRequestId}:${randomUUID()}`);
  } catch (error) {
    // Rethrown so that Lambda retries the async invocation and, at last, sends it to the DLQ.
    logger.error('task-lock invocation failed', { error: error as Error, event });
    metrics.addMetric('InvocationFailed', 'Count', 1);
    throw error;
  }
}

export const handler = middy(taskLock)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
