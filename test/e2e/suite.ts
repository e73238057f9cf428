/**
 * What the three E2E test files share: the bundles built once per file and
 * deployed into one Lambda runtime, and the running totals they print.
 */
import { afterAll, beforeAll } from 'vitest';
import { buildOnce, type Bundles } from './functions.ts';
import { LambdaRuntime } from '../../sim/lambda.ts';

// Scenarios run one after the other inside one test; the bound is far above their expected total, only
// there to stop a hung scenario (vitest's default of 60 s is per test).
export const SCENARIOS_TIMEOUT_MS = 600_000;

/** Builds the bundles before the file's tests, lets `deploy` install them, and tears it all down after. */
export function e2eRuntime(deploy: (runtime: LambdaRuntime, bundles: Bundles) => void): { readonly runtime: LambdaRuntime } {
  let bundles: Bundles | undefined;
  let runtime: LambdaRuntime | undefined;
  beforeAll(async () => {
    bundles = await buildOnce();
    runtime = await LambdaRuntime.start();
    deploy(runtime, bundles);
  });
  afterAll(async () => {
    await runtime?.close();
    bundles?.remove();
  });
  return {
    get runtime() {
      if (!runtime) throw new Error('the E2E runtime is used before beforeAll started it');
      return runtime;
    },
  };
}

/**
 * Adds one scenario's counts to the totals: `scenarios` counts the scenario, a
 * true boolean counts 1. Every other key of the totals must be a count of the run.
 */
export function tally<T extends { scenarios: number }>(totals: T, run: { [K in Exclude<keyof T, 'scenarios'>]: number | boolean }): void {
  totals.scenarios++;
  const counts = totals as unknown as Record<string, number>;
  for (const [key, value] of Object.entries(run as Record<string, unknown>)) {
    if (!(key in counts) || key === 'scenarios') continue;
    if (typeof value === 'number') counts[key]! += value;
    else if (value === true) counts[key]! += 1;
  }
}
