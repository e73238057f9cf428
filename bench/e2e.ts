/**
 * The naive drainer of the public samples against ecs-caretaker's drain
 * bundle, through the same seeded random scenarios of the E2E suite (faults
 * included): how often each completes a lifecycle action while a non-daemon
 * task of the instance is not STOPPED, and how often it lets the hook expire.
 */
import fc from 'fast-check';
import { addDrainRun, deployDrainers, drainScenarioArbitrary, emptyDrainTotals, runDrainScenario, type DrainTotals } from '../test/e2e/drain-scenario.ts';
import { buildOnce } from '../test/e2e/functions.ts';
import { LambdaRuntime } from '../sim/lambda.ts';
import { NAIVE_DEFAULTS } from '../test/e2e/naive-drainer.ts';
import { inWorld } from '../test/e2e/world.ts';

const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)} %`);

export async function benchBaseline(scenarios = 50, seed = 20261123): Promise<string> {
  const started = performance.now();
  // tsx turns Node's source maps on: each error the SDK creates under throttling then pays a
  // source-map lookup, which the bundles (without maps) never need.
  const maps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  const bundles = await buildOnce();
  const runtime = await LambdaRuntime.start();
  const tallies: Record<'ours' | 'naive', DrainTotals> = { ours: emptyDrainTotals(), naive: emptyDrainTotals() };
  try {
    deployDrainers(runtime, bundles);
    for (const scenario of fc.sample(drainScenarioArbitrary, { seed, numRuns: scenarios })) {
      for (const drainer of ['ours', 'naive'] as const) {
        addDrainRun(tallies[drainer], await inWorld(runtime, scenario.seed, (world) => runDrainScenario(world, scenario, drainer)));
      }
    }
  } finally {
    await runtime.close();
    bundles.remove();
    process.setSourceMapsEnabled(maps);
  }
  const row = (name: string, t: DrainTotals) =>
    `| ${name} | ${t.scenarios} | ${t.actions} | ${t.early} (${pct(t.early, t.actions)}) | ${t.expired} (${pct(t.expired, t.actions)}) | ${t.timedOut} | ${t.leftDraining} | ${t.breached} (${pct(t.breached, t.scenarios)}) |`;
  return [
    `${scenarios} random drain scenarios (fast-check seed ${seed}, the generator of test/e2e/drain-scenario.ts), each run twice on a fresh simulator:`,
    'once with the drain bundle (its rules and the reconcile tick), once with the naive drainer of the public samples',
    `(DRAINING, then DescribeContainerInstances until runningTasksCount is 0, every ${NAIVE_DEFAULTS.intervalMs / 1000} s, at most ${NAIVE_DEFAULTS.checks} checks, no heartbeat).`,
    'Both under 20 % throttling and 5 % 5xx on every AWS call, duplicated, reordered and lost (5 %) events, and one invocation killed at a random AWS call.',
    'Some scenarios also lose lifecycle events for good, put stray lifecycle events (garbage tokens, replays) on the bus, or take DynamoDB down for up to 10 minutes.',
    'Rates are per lifecycle action, its event delivered or not: Auto Scaling, not the bus, says which actions are pending.',
    '',
    '| drainer | scenarios | lifecycle actions | completed early (a non-daemon task not STOPPED) | hook expired (no completion) | completed by the drain timeout policy | instances left DRAINING in service | scenarios with a breach |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('ecs-caretaker drain', tallies.ours),
    row('naive drainer', tallies.naive),
    '',
    `Wall time: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  ].join('\n');
}
