/**
 * Simulated time. Nothing moves unless a test advances it, so a 30-minute
 * drain or a 24-hour token expiry runs in milliseconds and always the same way.
 */
export interface SimClock {
  /** epoch ms */
  now(): number;
  date(): Date;
  /** Runs `fn` when simulated time reaches `ms` (a past time means "at the next advance"). Returns a cancel function. */
  at(ms: number, fn: () => void | Promise<void>): () => void;
  after(ms: number, fn: () => void | Promise<void>): () => void;
  /**
   * Moves time forward by `ms`, running due timers in time order and awaiting
   * each, including timers they schedule inside the window. Rejects at the
   * first timer that throws, with time left at that timer.
   */
  advance(ms: number): Promise<void>;
  /** Runs timers until none is left within `maxMs` of now (default one day), stopping at the last one run. */
  runUntilIdle(maxMs?: number): Promise<void>;
  /** Timers not yet run. */
  pending(): number;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
}

const ONE_DAY_MS = 24 * 3600_000;

export function createClock(start: Date = new Date()): SimClock {
  let now = start.getTime();
  let seq = 0;
  let busy = false;
  const timers: Timer[] = [];

  const cancel = (timer: Timer) => () => {
    const i = timers.indexOf(timer);
    if (i >= 0) timers.splice(i, 1);
  };

  // Ties run in the order they were scheduled, so same-instant events keep their order.
  const earliest = (): Timer | undefined =>
    timers.reduce<Timer | undefined>((best, t) => (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq) ? t : best), undefined);

  async function runThrough(until: number, settleAtEnd: boolean): Promise<void> {
    // A timer that advanced the clock itself would run the queue out of order.
    if (busy) throw new Error('clock.advance/runUntilIdle is not re-entrant: a timer or handler must not advance time');
    busy = true;
    try {
      for (let next = earliest(); next && next.at <= until; next = earliest()) {
        timers.splice(timers.indexOf(next), 1);
        now = Math.max(now, next.at);
        await next.fn();
      }
      if (settleAtEnd) now = Math.max(now, until);
    } finally {
      busy = false;
    }
  }

  const clock: SimClock = {
    now: () => now,
    date: () => new Date(now),
    at(ms, fn) {
      const timer = { at: ms, seq: seq++, fn };
      timers.push(timer);
      return cancel(timer);
    },
    after: (ms, fn) => clock.at(now + ms, fn),
    advance: (ms) => runThrough(now + ms, true),
    runUntilIdle: (maxMs = ONE_DAY_MS) => runThrough(now + maxMs, false),
    pending: () => timers.length,
  };
  return clock;
}
