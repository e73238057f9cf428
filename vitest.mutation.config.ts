import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';
import { MODULES } from './stryker.config.mjs';

// Stryker's vitest runner loads this (stryker.config.mjs `vitest.configFile`):
// the env of vitest.config.ts, but only the unit tests of the module being
// mutated, and no JSON report (reports/vitest.json belongs to `npm test`).
const name = process.env.MUTATION_MODULE;
const modules = name ? [MODULES[name]] : Object.values(MODULES);

export default defineConfig({
  test: {
    ...base.test,
    include: modules.flatMap((m) => m?.tests ?? []),
    reporters: ['default'],
  },
});
