/**
 * task-lock: a nightly job whose schedule fires three times runs once; a
 * 15-minute job whose runs take 20 minutes never overlaps itself. The demo
 * plays EventBridge Scheduler, with the input the deployed schedules carry.
 */
import { scheduledPayload, type Describer } from '../lambda.ts';
import { schedulesOf } from '../deployment.ts';
import type { Scenario } from '../runner.ts';
import type { Task } from '../../sim/index.ts';

/** Pairs of runs whose lifetimes intersect. */
function countOverlaps(tasks: Task[]): number {
  let overlaps = 0;
  const spans = tasks.map((t) => [t.createdAt, t.stoppedAt ?? Number.POSITIVE_INFINITY] as const);
  for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) if (spans[i]![0] < spans[j]![1] && spans[j]![0] < spans[i]![1]) overlaps++;
  return overlaps;
}

export const taskLockScenario: Scenario = {
  name: 'task-lock',
  title: 'a scheduled job fires three times and runs once; a job never overlaps itself',
  // 02:00 in Paris, the nightly job's occurrence.
  start: '2026-11-24T01:00:00Z',
  async run({ sim, timeline, fn, check }) {
    sim.ecs.defineTaskDefinition('nightly-report', { runSeconds: 25 * 60 });
    sim.ecs.defineTaskDefinition('sync-inventory', { runSeconds: 20 * 60 });
    const lock = await fn('task-lock', { schedules: false });
    const schedules = schedulesOf('task-lock');
    const scheduleOf = (job: string) => {
      const schedule = schedules.find((s) => s.input?.job === job);
      if (!schedule) throw new Error(`no schedule deployed for job ${job}`);
      return schedule;
    };
    const labelled =
      (label: string): Describer =>
      (event, outcome, invocation) => {
        const said = lock.describe(event, outcome, invocation);
        return said && { ...said, text: `${label}: ${said.text}` };
      };

    const nightly = scheduleOf('nightly-report');
    timeline.heading(
      `Scenario task-lock — Scheduler delivers the 02:00 Paris (01:00 UTC) occurrence of nightly-report (${nightly.expression}) three times; times are UTC`,
    );
    const occurrence = sim.clock.now();
    await Promise.all([
      lock.deliver(scheduledPayload(sim, nightly, occurrence), labelled('delivery 1')),
      lock.deliver(scheduledPayload(sim, nightly, occurrence), labelled('delivery 2, concurrent')),
    ]);
    await sim.clock.advance(5 * 60_000);
    await lock.deliver(scheduledPayload(sim, nightly, occurrence, 2), labelled('delivery 3, 5 min late'));

    const sync = scheduleOf('sync-inventory');
    timeline.heading(`Scenario task-lock — sync-inventory runs ${sync.expression}, each run takes 20 min (overlap: skip)`);
    for (let i = 0; i < 5; i++) {
      await lock.deliver(scheduledPayload(sim, sync, sim.clock.now()));
      await sim.clock.advance(15 * 60_000);
    }

    const nightlyTasks = sim.ecs.tasks({ family: 'nightly-report' });
    check(
      'nightly-report: 3 deliveries of one occurrence start 1 task',
      nightlyTasks.length === 1,
      `${nightlyTasks.length} task${nightlyTasks.length === 1 ? '' : 's'}`,
    );
    const outcomes = lock.invocations.map(({ outcome }) => outcome.result?.outcome).filter(Boolean);
    const syncTasks = sim.ecs.tasks({ family: 'sync-inventory' });
    const skipped = outcomes.filter((o) => o === 'skipped').length;
    check('sync-inventory: 5 occurrences, 3 started and 2 skipped', syncTasks.length === 3 && skipped === 2, `${syncTasks.length} started, ${skipped} skipped`);
    const overlaps = countOverlaps(syncTasks);
    check('sync-inventory: no two runs overlap', overlaps === 0, `${overlaps} overlapping pairs`);
  },
};
