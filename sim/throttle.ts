import type { SimClock } from './clock.ts';

/**
 * Request throttling as AWS applies it: a token bucket per category of
 * actions, shared by every caller of the account and Region. A call takes one
 * token; with none left it is throttled. The bucket gets its refill once a
 * second, up to its capacity (the burst). Time is the simulator's clock, so a client
 * that backs off on the sim clock (the Lambda runtime's 'sim' time) sees the
 * bucket refill while it waits.
 */
export interface TokenBucket {
  /** Bucket maximum capacity: the burst. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
}

/** One service's limits: which bucket an operation draws from (none: not throttled), and the buckets. */
export interface RateLimits {
  categoryOf(op: string): string | undefined;
  buckets: Record<string, TokenBucket>;
}

interface BucketState {
  tokens: number;
  /** When the last whole second of refill was added. */
  at: number;
}

export interface Throttle {
  /** Throttles `service` with these limits from now on (the buckets start full); `undefined` lifts them. */
  limit(service: string, limits: RateLimits | undefined): void;
  /** Takes a token for the call; false when it must be throttled. */
  take(service: string, op: string): boolean;
  /** Calls admitted per whole second of sim time, by service and category: for reports of peak rates. */
  admitted(service: string, category: string): Map<number, number>;
  categoryOf(service: string, op: string): string | undefined;
}

export function createThrottle(clock: SimClock): Throttle {
  const limits = new Map<string, RateLimits>();
  const state = new Map<string, BucketState>();
  const perSecond = new Map<string, Map<number, number>>();
  const key = (service: string, category: string) => `${service}/${category}`;

  return {
    limit(service, next) {
      for (const k of [...state.keys()]) if (k.startsWith(`${service}/`)) state.delete(k);
      if (next) limits.set(service, next);
      else limits.delete(service);
    },
    categoryOf: (service, op) => limits.get(service)?.categoryOf(op),
    take(service, op) {
      const rules = limits.get(service);
      const category = rules?.categoryOf(op);
      const bucket = category === undefined ? undefined : rules!.buckets[category];
      if (!bucket) return true;
      const k = key(service, category!);
      const now = clock.now();
      const s = state.get(k) ?? { tokens: bucket.capacity, at: now };
      // "If the bucket is below its maximum capacity, a set number of tokens is added back to it every second."
      const seconds = Math.floor((now - s.at) / 1000);
      if (seconds > 0) {
        s.tokens = Math.min(bucket.capacity, s.tokens + seconds * bucket.refillPerSecond);
        s.at += seconds * 1000;
      }
      state.set(k, s);
      if (s.tokens < 1) return false;
      s.tokens -= 1;
      const second = Math.floor(now / 1000);
      const counts = perSecond.get(k) ?? new Map<number, number>();
      counts.set(second, (counts.get(second) ?? 0) + 1);
      perSecond.set(k, counts);
      return true;
    },
    admitted: (service, category) => perSecond.get(key(service, category)) ?? new Map(),
  };
}

/**
 * One bucket for every operation of a service. EC2 Auto Scaling throttles all
 * its API calls of an account and Region against one shared limit (AWS
 * Knowledge Center, "Why are my Amazon EC2 Auto Scaling API calls throttled?",
 * https://repost.aws/knowledge-center/autoscaling-api-calls-throttled) and
 * publishes no numbers: the caller chooses them.
 */
export const sharedBucket = (capacity: number, refillPerSecond: number): RateLimits => ({
  categoryOf: () => 'all',
  buckets: { all: { capacity, refillPerSecond } },
});
