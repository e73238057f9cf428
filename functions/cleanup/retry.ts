/**
 * The retry strategy of the client that sends commands. SendCommand has no
 * idempotency token: a call that failed with a 5xx or a timeout may have
 * created the command all the same, and a blind retry would clean the same
 * instances twice. A throttling error is a definite "not done", so only those
 * are retried here, with the SDK's exponential backoff and full jitter; any
 * other failure goes back to the caller, which asks ListCommands whether the
 * batch exists before it gives the instances back (run.ts).
 *
 * The types are structural copies of @smithy/types' RetryStrategyV2, which the
 * SDK client accepts as `retryStrategy`.
 */

interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

interface RetryErrorInfo {
  errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

// The SDK's standard retry: a 500 ms base for throttling errors, 20 s at most between attempts (@smithy util-retry constants).
export const THROTTLING_BASE_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 20_000;

export function throttlingOnlyRetryStrategy(maxAttempts: number, random: () => number = Math.random) {
  const token = (count: number, delay: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delay });
  return {
    mode: 'throttling-only',
    acquireInitialRetryToken: async (_scope: string): Promise<RetryToken> => token(0, 0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> => {
      const retries = previous.getRetryCount() + 1;
      if (info.errorType !== 'THROTTLING') throw new Error(`not retried: ${info.errorType} errors may have been applied`);
      if (retries >= maxAttempts) throw new Error(`not retried: ${maxAttempts} attempts made`);
      const ceiling = Math.min(MAX_RETRY_DELAY_MS, THROTTLING_BASE_DELAY_MS * 2 ** (retries - 1));
      return token(retries, Math.floor(random() * ceiling));
    },
    recordSuccess: (_token: RetryToken): void => undefined,
  };
}
