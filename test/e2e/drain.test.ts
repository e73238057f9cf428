/**
 * E2E: the drain bundle under random scenarios and faults, and the naive
 * drainer of the public samples through the very same scenarios.
 *
 * Invariants, for ecs-caretaker: no lifecycle action is completed while a
 * non-daemon task of its instance is not STOPPED (read at the moment Auto
 * Scaling accepts the call), unless the configured drain timeout has passed;
 * every action whose event reached the function ends in a completion, never
 * in the hook's heartbeat or global timeout, its event delivered or lost,
 * through DynamoDB outages of up to 10 minutes; no container instance is
 * left DRAINING while its EC2 instance stays InService (stray lifecycle
 * events); every malformed event ends in the DLQ with its reason logged. The naive drainer's breaches are counted
 * and printed, not asserted.
 */
import { describe, expect, it } from 'vitest';
import { addDrainRun, deployDrainers, drainScenarioArbitrary, emptyDrainTotals, runDrainScenario, type DrainTotals } from './drain-scenario.ts';
import { checkScenarios, e2eSeed } from './property.ts';
import { e2eRuntime, SCENARIOS_TIMEOUT_MS } from './suite.ts';
import { inWorld } from './world.ts';

const RUNS = Number(process.env.E2E_RUNS_DRAIN ?? 50);

const suite = e2eRuntime(deployDrainers);

const line = (name: string, t: DrainTotals) =>
  `${name.padEnd(14)} ${t.scenarios} scenarios, ${t.actions} lifecycle actions: ${t.early} completed early, ${t.expired} expired, ${t.timedOut} by the drain timeout, ${t.leftDraining} instances left DRAINING in service; ${t.lostEvents} lifecycle events lost, ${t.strays} stray lifecycle events, ${t.outageMinutes} min of DynamoDB outage; ${t.kills} invocations killed`;

describe('drain E2E', () => {
  it(
    `keeps every drain safe and alive over ${RUNS} random scenarios, where the naive drainer does not`,
    async () => {
      const seed = e2eSeed();
      const ours = emptyDrainTotals();
      const naive = emptyDrainTotals();
      try {
        await checkScenarios({
          name: 'drain',
          file: 'test/e2e/drain.test.ts',
          arbitrary: drainScenarioArbitrary,
          numRuns: RUNS,
          seed,
          run: async (scenario) => {
            const run = await inWorld(suite.runtime, scenario.seed, (world) => runDrainScenario(world, scenario, 'ours'));
            addDrainRun(ours, run);
            if (run.violations.length) throw new Error(`ecs-caretaker drain:\n  ${run.violations.join('\n  ')}`);
            addDrainRun(naive, await inWorld(suite.runtime, scenario.seed, (world) => runDrainScenario(world, scenario, 'naive')));
          },
        });
      } finally {
        console.log(`drain E2E (seed ${seed}):\n${line('ecs-caretaker', ours)}\n${line('naive drainer', naive)}`);
      }
      expect(ours.early + ours.expired + ours.leftDraining).toBe(0);
    },
    SCENARIOS_TIMEOUT_MS,
  );
});
