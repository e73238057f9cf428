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
 * `equivalent`: the mutants that survive on purpose, one line each: where (the
 * code, not a line number: other work moves lines), what the mutant does, and
 * why no test can tell. Two kinds:
 *  - equivalent: no input can tell the mutant from the original;
 *  - unreachable: only an AWS answer that the API never gives (a list it
 *    always returns, a field it always fills) could tell; the code guards the
 *    SDK's optional typing.
 * They still count as survivors in the score (Stryker has no per-mutant
 * ignore without editing the source); they are listed so that nobody spends
 * time on them again. The runner prints this list's length beside the score.
 */

/** @type {Record<string, MutationModule>} */
export const MODULES = {
  done: {
    mutate: 'functions/drain/done.ts',
    tests: ['test/drain/done.test.ts'],
    equivalent: [
      "doneTest `done: false` -> true in the initial verdict: equivalent, verdict.done is set from blocking before the return",
      'doneTest `services: []` -> ["Stryker was here"]: equivalent, verdict.services is replaced by the sorted set before the return',
      'doneTest `service !== undefined && daemonServices.has(service)` -> `true && ...`: equivalent, a Set<string> never has undefined',
    ],
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
    equivalent: [
      'errorName `(error)?.name` -> `(error).name`: unreachable, the SDK only throws Error objects, never null or undefined',
      'listActive `containerInstanceArns ?? []` -> ["Stryker was here"]: unreachable, ListContainerInstances always returns the list (empty when none)',
      'describeActive `containerInstances ?? []` -> ["Stryker was here"]: unreachable, DescribeContainerInstances always returns the list',
      'ssmStates `InstanceInformationList ?? []` -> ["Stryker was here"]: unreachable, DescribeInstanceInformation always returns the list',
      'ssmStates `if (info.InstanceId)` -> `if (true)`: unreachable, every InstanceInformation carries its InstanceId',
    ],
  },
  classify: {
    mutate: 'functions/stopped-watch/classify.ts',
    tests: ['test/stopped-watch/classify.test.ts'],
  },
  lock: {
    mutate: 'functions/task-lock/lock.ts',
    tests: ['test/task-lock/lock.test.ts'],
    equivalent: [
      'describeStatus `out.tasks?.find` -> `out.tasks.find`: unreachable, DescribeTasks always returns tasks[] (empty, with failures[], for an unknown task)',
      'describeStatus `t.taskArn === taskArn` -> true: unreachable, DescribeTasks is asked for this one task and returns no other',
      'findStartedTask `listed.taskArns ?? []` -> ["Stryker was here"]: unreachable, ListTasks always returns taskArns',
      'findStartedTask `described.tasks?.find` -> `described.tasks.find`: unreachable, as in describeStatus',
      "findStartedTask `tag.key === OCCURRENCE_TAG` -> true: unreachable, the only other tag task-lock sets is ecs-caretaker:job, whose value is a job name, never an occurrence's ISO time",
      "holderEvidence `holder.state === 'running' && holder.taskArn` -> `||`, and `holder.state === 'running'` -> true: equivalent, a slot has a taskArn exactly when it is running (written starting without one, updated to running with one)",
      "holderEvidence `holder.state === 'starting'` -> true: equivalent, the only holder left after the running one is a starting one",
      "adoptStartedTask returned `state: 'running'` -> '': equivalent, the caller reads only taskArn and occurrence of the holder it gets back",
      'acquireJobSlot / acquireOccurrence first `await store.putIfAbsent(...)` -> false: equivalent, the write is dropped and the read-then-putIfAbsent that follows does the same write (one more read)',
      'acquireJobSlot why `this occurrence already started ...` -> ``: equivalent, runOccurrence does not log the why in that branch',
      "releaseAfterFailure `job.overlap === 'skip'` -> true: equivalent, an `allow` job has no slot, and the owner-conditional delete finds nothing",
    ],
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
