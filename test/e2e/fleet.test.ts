/**
 * E2E: stopped-watch and cleanup bundles (with drain alongside) on a random
 * fleet under faults.
 *
 * Invariants: no (cluster, service, category) gets more than one alert per
 * window (the first alert, then one summary after the window), except the
 * at-least-once resend of a message whose sender died between Publish and
 * recording it, which is counted; cleanup never sends a command to an
 * instance that was DRAINING, deregistered or offline in Systems Manager when
 * the sending invocation started; the drains stay safe and alive; every
 * malformed event ends in the DLQ with its reason logged.
 */
import { describe, expect, it } from 'vitest';
import { FLEET_CONFIG, fleetScenarioArbitrary, runFleetScenario } from './fleet-scenario.ts';
import { bundledDeployments } from './functions.ts';
import { checkScenarios, e2eSeed } from './property.ts';
import { e2eRuntime, SCENARIOS_TIMEOUT_MS, tally } from './suite.ts';
import { inWorld } from './world.ts';

const RUNS = Number(process.env.E2E_RUNS_FLEET ?? 60);

const suite = e2eRuntime((runtime, bundles) => {
  for (const deployment of bundledDeployments(FLEET_CONFIG, bundles, { only: ['stopped-watch', 'cleanup', 'drain'] })) runtime.deploy(deployment);
});

describe('stopped-watch and cleanup E2E', () => {
  it(
    `rate-limits alerts and keeps cleanup off draining and offline instances, over ${RUNS} random scenarios`,
    async () => {
      const seed = e2eSeed();
      const totals = {
        scenarios: 0,
        alerts: 0,
        summaries: 0,
        resent: 0,
        commands: 0,
        instancesSent: 0,
        raced: 0,
        guarded: 0,
        actions: 0,
        validInDlq: 0,
        killed: 0,
      };
      try {
        await checkScenarios({
          name: 'stopped-watch/cleanup',
          file: 'test/e2e/fleet.test.ts',
          arbitrary: fleetScenarioArbitrary,
          numRuns: RUNS,
          seed,
          run: async (scenario) => {
            const run = await inWorld(suite.runtime, scenario.seed, (world) => runFleetScenario(world, scenario));
            tally(totals, run);
            if (run.violations.length) throw new Error(`stopped-watch/cleanup:\n  ${run.violations.join('\n  ')}`);
          },
        });
      } finally {
        console.log(
          `stopped-watch/cleanup E2E (seed ${seed}), ${totals.scenarios} scenarios: ${totals.alerts} first alerts and ${totals.summaries} summaries, ${totals.resent} resent after their sender died or failed before recording them; ` +
            `${totals.commands} SendCommand to ${totals.instancesSent} instances (${totals.raced} to an instance that became DRAINING or offline while the sending invocation ran); ` +
            `${totals.guarded} cleanup invocations started with a DRAINING, deregistered or offline instance in the fleet; ${totals.actions} drains; ${totals.validInDlq} valid events in the DLQ; ${totals.killed} invocations killed`,
        );
      }
      expect(totals.alerts).toBeGreaterThan(0);
      expect(totals.commands).toBeGreaterThan(0);
    },
    SCENARIOS_TIMEOUT_MS,
  );
});
