// @ts-check
/**
 * Mutation testing of the pure decision modules (`npm run mutation`, see
 * scripts/mutation.mjs and README "Mutation testing"). Not run in CI: on two
 * cores it takes minutes per module.
 *
 * Each module is mutated on its own and judged by its own unit tests only
 * (`tests` below): a mutant that only an integration or E2E test would notice
 * counts as surviving, because those tests are not where the promise is stated.
 *
 * Choose the module with MUTATION_MODULE=<name> (the runner does this).
 */

/**
 * @typedef {{ mutate: string, tests: string[], equivalent?: string[] }} MutationModule
 * `equivalent`: surviving mutants judged equivalent (no observable behaviour
 * changes), one line each: where, what the mutant does, why nothing can tell.
 * They still count as survivors in the score; they are listed so that nobody
 * spends time on them again.
 */

/** @type {Record<string, MutationModule>} */
export const MODULES = {
  done: {
    mutate: 'functions/drain/done.ts',
    tests: ['test/drain/done.test.ts'],
  },
  'event-pattern': {
    mutate: 'functions/shared/event-pattern.ts',
    tests: ['test/shared/event-pattern.test.ts'],
  },
  plan: {
    mutate: 'functions/cleanup/plan.ts',
    tests: ['test/cleanup/plan.test.ts'],
  },
  targets: {
    mutate: 'functions/cleanup/targets.ts',
    tests: ['test/cleanup/targets.test.ts'],
  },
  classify: {
    mutate: 'functions/stopped-watch/classify.ts',
    tests: ['test/stopped-watch/classify.test.ts'],
  },
  lock: {
    mutate: 'functions/task-lock/lock.ts',
    tests: ['test/task-lock/lock.test.ts'],
  },
};

const name = process.env.MUTATION_MODULE;
const module = name ? MODULES[name] : undefined;
if (name && !module) throw new Error(`MUTATION_MODULE=${name}: unknown module; known: ${Object.keys(MODULES).join(', ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: {
    // Same env as vitest.config.ts, only this module's test files, no JSON report.
    configFile: 'vitest.mutation.config.ts',
    related: true,
  },
  // Not Stryker's own `testFiles` option: with it (core 10.1.1, vitest 5) static
  // mutants (module-level constants and arrow functions) were reported as
  // survivors although their tests fail. vitest.mutation.config.ts's `include`
  // does the restriction instead.
  mutate: module ? [module.mutate] : [],
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: one test runner unless told otherwise.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  // Only what the unit tests need is copied into the sandbox.
  ignorePatterns: ['bench', 'dist', '.serverless', '.esbuild', 'reports', 'coverage'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name ?? 'all'}.html` },
  jsonReporter: { fileName: `reports/mutation/${name ?? 'all'}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 10_000,
};

export default config;
