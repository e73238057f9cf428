/**
 * The bundles read Date.now() (windows, leases, heartbeats) and wait with
 * setTimeout (SDK retry backoff, the adaptive rate limiter). Nothing in the
 * simulated world moves while a handler runs, so the handlers' clock is the
 * simulated one, moved forward by their own waits only: a timer set by Lambda
 * code fires after a fraction of its delay in wall time, and the handlers'
 * clock then reads as if the whole delay had passed. A throttled call still
 * backs off exactly as the SDK decides, and the rate limiter sees its bucket
 * refill by the time it waited, in a fraction of the wall time; that is what
 * keeps `--faults` well under a minute. Compute time counts as zero, as it
 * does for the simulated world.
 */
import { promisify } from 'node:util';
import type { SimClock } from '../sim/index.ts';

export interface LambdaClockOptions {
  clock: SimClock;
  /** How much shorter a Lambda timer is in wall time than the delay it asked for. */
  speedup: number;
  /** True when a stack trace shows the timer was set by Lambda code (a bundle), not by the simulator or the test runner. */
  isLambdaStack: (stack: string) => boolean;
}

/** Installs the clock for the whole process; returns the function that puts the real one back. */
export function installLambdaClock(opts: LambdaClockOptions): () => void {
  const realNow = Date.now;
  const realSetTimeout = globalThis.setTimeout;
  // The furthest point in time a Lambda timer has reached; the simulated clock takes over once it passes it.
  let waitedUntil = Number.NEGATIVE_INFINITY;
  const lambdaNow = () => Math.max(opts.clock.now(), waitedUntil);

  Date.now = lambdaNow;
  const fastSetTimeout = function (handler: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) {
    if (typeof handler !== 'function' || typeof delay !== 'number' || !(delay > 0) || !opts.isLambdaStack(new Error().stack ?? '')) {
      return realSetTimeout(handler, delay, ...args);
    }
    // Node runs a timer 1 ms late at least, and Date.now() counts whole milliseconds: a loop that
    // waits for a fraction of a millisecond (the rate limiter does) must still see time pass.
    const due = lambdaNow() + Math.max(1, Math.ceil(delay));
    return realSetTimeout(
      (...fired: unknown[]) => {
        waitedUntil = Math.max(waitedUntil, due);
        handler(...fired);
      },
      delay / opts.speedup,
      ...args,
    );
  } as typeof setTimeout;
  Object.defineProperty(fastSetTimeout, promisify.custom, { value: (realSetTimeout as any)[promisify.custom] });
  globalThis.setTimeout = fastSetTimeout;

  return () => {
    Date.now = realNow;
    globalThis.setTimeout = realSetTimeout;
  };
}
