/**
 * E2E: the task-lock bundle under random schedules and faults.
 *
 * Invariants, on the simulator's ECS state: an occurrence starts at most one
 * task per stack; under overlap `skip` no task of a job starts while another
 * of the same job and stack is not STOPPED (with onOverrun stop-previous: not
 * STOPPED and not yet asked to stop); a second stack on the cluster never
 * fails on or answers with the first stack's task; a redrive 25 h late is
 * refused; an
 * occurrence that reached the function and started nothing was skipped for a
 * run that was really going (or is in the DLQ after three failures); every
 * malformed payload ends in the DLQ with its reason logged.
 */
import { describe, expect, it } from 'vitest';
import { bundledDeployments } from './functions.ts';
import { checkScenarios, e2eSeed } from './property.ts';
import { e2eRuntime, SCENARIOS_TIMEOUT_MS, tally } from './suite.ts';
import { runTaskLockScenario, stagingDeployment, TASK_LOCK_CONFIG, taskLockScenarioArbitrary } from './task-lock-scenario.ts';
import { inWorld } from './world.ts';

const RUNS = Number(process.env.E2E_RUNS_TASK_LOCK ?? 90);

const suite = e2eRuntime((runtime, bundles) => {
  for (const deployment of bundledDeployments(TASK_LOCK_CONFIG, bundles, { only: ['task-lock'] })) {
    runtime.deploy(deployment);
    runtime.deploy(stagingDeployment(deployment));
  }
});

describe('task-lock E2E', () => {
  it(
    `runs each occurrence once and never overlaps under skip, over ${RUNS} random scenarios`,
    async () => {
      const seed = e2eSeed();
      const totals = { scenarios: 0, occurrences: 0, started: 0, skipped: 0, neverDelivered: 0, inDlq: 0, validInDlq: 0, killed: 0 };
      try {
        await checkScenarios({
          name: 'task-lock',
          file: 'test/e2e/task-lock.test.ts',
          arbitrary: taskLockScenarioArbitrary,
          numRuns: RUNS,
          seed,
          run: async (scenario) => {
            const run = await inWorld(suite.runtime, scenario.seed, (world) => runTaskLockScenario(world, scenario));
            tally(totals, run);
            if (run.violations.length) throw new Error(`task-lock:\n  ${run.violations.join('\n  ')}`);
          },
        });
      } finally {
        console.log(
          `task-lock E2E (seed ${seed}), ${totals.scenarios} scenarios: ${totals.occurrences} occurrences: ${totals.started} started once, ${totals.skipped} skipped for a running task, ` +
            `${totals.neverDelivered} never delivered (lost by the bus), ${totals.inDlq} in the DLQ; ${totals.validInDlq} valid payloads in the DLQ; ${totals.killed} invocations killed`,
        );
      }
      expect(totals.started).toBeGreaterThan(0);
    },
    SCENARIOS_TIMEOUT_MS,
  );
});
