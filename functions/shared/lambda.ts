import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './powertools.ts';

/**
 * Every SDK client of every function: adaptive retry spaces out throttled
 * calls (AWS SDK retry behavior: "adaptive" adds client-side rate limiting on
 * top of standard retries), and five attempts ride out a short burst.
 */
export const clientConfig = { retryMode: 'adaptive', maxAttempts: 5 } as const;

/** A client whose calls appear as X-Ray subsegments. */
export const traced = <C extends object>(client: C): C => tracer.captureAWSv3Client(client as never) as C;

/** The DocumentClient on the project's table; undefined attributes are dropped rather than rejected. */
export const documentClient = (): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(traced(new DynamoDBClient(clientConfig)), { marshallOptions: { removeUndefinedValues: true } });

/**
 * Wraps a function's logic as its Lambda handler: Powertools context, metrics
 * and tracing, and one place where a failure is logged with the event before
 * it is rethrown, so that Lambda retries the async invocation and, at last,
 * sends it to the function's DLQ.
 */
export function lambdaHandler<R>(name: string, run: (event: unknown, context: Context) => Promise<R>) {
  const guarded = async (event: unknown, context: Context): Promise<R> => {
    try {
      return await run(event, context);
    } catch (error) {
      logger.error(`${name} invocation failed`, { error: error as Error, event });
      metrics.addMetric('InvocationFailed', MetricUnit.Count, 1);
      throw error;
    }
  };
  return middy(guarded)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics));
}
