import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { lambdaHandler } from '../../functions/shared/lambda.ts';
import { logger } from '../../functions/shared/powertools.ts';
import { fakeContext } from '../../sim/lambda.ts';

describe('lambdaHandler', () => {
  it('returns what the logic returns', async () => {
    const handler = lambdaHandler('ok-fn', async (event) => ({ echoed: event }));
    expect(await handler({ a: 1 }, fakeContext())).toEqual({ echoed: { a: 1 } });
  });

  it('logs a failure with the event, counts it, and rethrows it for the async retry and the DLQ', async () => {
    const logged = vi.spyOn(logger, 'error');
    const counted = vi.spyOn(Metrics.prototype, 'addMetric');
    const boom = new Error('detail.EC2InstanceId: expected a string');
    const handler = lambdaHandler('failing-fn', async () => {
      throw boom;
    });
    await expect(handler({ detail: {} }, fakeContext())).rejects.toBe(boom);
    expect(logged).toHaveBeenCalledWith('failing-fn invocation failed', { error: boom, event: { detail: {} } });
    expect(counted).toHaveBeenCalledWith('InvocationFailed', 'Count', 1);
  });
});
