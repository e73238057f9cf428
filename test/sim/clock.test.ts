import { describe, expect, it } from 'vitest';
import { createClock } from '../../sim/clock.ts';

const start = new Date('2026-01-01T00:00:00Z');

describe('sim clock', () => {
  it('stands still until advanced, then runs due timers in time order', async () => {
    const clock = createClock(start);
    const seen: Array<[string, number]> = [];
    clock.after(3000, () => void seen.push(['c', clock.now() - start.getTime()]));
    clock.after(1000, () => void seen.push(['a', clock.now() - start.getTime()]));
    clock.after(1000, () => void seen.push(['b', clock.now() - start.getTime()]));
    expect(clock.now()).toBe(start.getTime());

    await clock.advance(2000);
    expect(seen).toEqual([
      ['a', 1000],
      ['b', 1000],
    ]);
    expect(clock.now()).toBe(start.getTime() + 2000);
    await clock.advance(1000);
    expect(seen.map(([name]) => name)).toEqual(['a', 'b', 'c']);
  });

  it('awaits each timer and runs timers scheduled inside the window', async () => {
    const clock = createClock(start);
    const seen: number[] = [];
    clock.after(100, async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(clock.now() - start.getTime());
      clock.after(100, () => void seen.push(clock.now() - start.getTime()));
      clock.after(5000, () => void seen.push(clock.now() - start.getTime()));
    });
    await clock.advance(1000);
    expect(seen).toEqual([100, 200]);
    expect(clock.pending()).toBe(1);
  });

  it('cancels timers and runs until idle without overshooting', async () => {
    const clock = createClock(start);
    const seen: string[] = [];
    const cancel = clock.after(10, () => void seen.push('cancelled'));
    clock.after(60_000, () => void seen.push('late'));
    cancel();
    await clock.runUntilIdle();
    expect(seen).toEqual(['late']);
    expect(clock.now()).toBe(start.getTime() + 60_000);
  });

  it('refuses to be advanced from inside a timer', async () => {
    const clock = createClock(start);
    clock.after(10, () => clock.advance(10));
    await expect(clock.advance(100)).rejects.toThrow(/not re-entrant/);
  });
});
