/**
 * The demo's narrated timeline: simulated time, function, decision, and the
 * AWS calls the decision cost. Printed as it happens; `--json` also keeps it.
 */
import type { Sim } from '../sim/index.ts';

export interface TimelineEntry {
  at: string;
  fn: string;
  text: string;
  calls?: Record<string, number>;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private callMark = 0;

  private readonly sim: Sim;
  private readonly print: boolean;

  constructor(sim: Sim, print: boolean) {
    this.sim = sim;
    this.print = print;
  }

  /** AWS calls made since the last entry, as `ecs:RunTask ×2` counts. */
  private callsSince(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.sim.calls.slice(this.callMark)) counts[`${call.service}:${call.op}`] = (counts[`${call.service}:${call.op}`] ?? 0) + 1;
    this.callMark = this.sim.calls.length;
    return counts;
  }

  log(fn: string, text: string): void {
    const calls = this.callsSince();
    const entry: TimelineEntry = { at: this.sim.clock.date().toISOString(), fn, text, ...(Object.keys(calls).length ? { calls } : {}) };
    this.entries.push(entry);
    if (!this.print) return;
    const time = entry.at.slice(11, 19);
    const callText = entry.calls ? `  [${Object.entries(entry.calls).map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ')}]` : '';
    console.log(`  ${time}  ${fn.padEnd(12)} ${text}${callText}`);
  }

  heading(text: string): void {
    this.callsSince();
    if (this.print) console.log(`\n${text}`);
  }
}
