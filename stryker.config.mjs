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
 * @typedef {{ mutate: string, tests: string[], equivalent?: string[], left?: string[] }} MutationModule
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
 * `left`: survivors that are NOT equivalent, which no test kills yet, with the
 * reason (usually: no real AWS wording or documented behaviour to test with).
 */

/** @type {Record<string, MutationModule>} */
export const MODULES = {
  done: {
    mutate: 'functions/drain/done.ts',
    tests: ['test/drain/done.test.ts'],
    equivalent: [
      'doneTest `done: false` -> true in the initial verdict: equivalent, verdict.done is set from blocking before the return',
      'doneTest `services: []` -> ["Stryker was here"]: equivalent, verdict.services is replaced by the sorted set before the return',
      'doneTest `service !== undefined && daemonServices.has(service)` -> `true && ...`: equivalent, a Set<string> never has undefined',
      "viewsOf add `views.has(id) && desiredStatus === 'RUNNING'` -> `views.has(id) && true`: equivalent, it also skips a task listed twice under desired STOPPED, and add gives the same view for the same id twice",
      "viewsOf `add(arn, 'STOPPED')` -> `add(arn, '')`: equivalent, add compares the desired status with RUNNING only, and '' is not RUNNING either",
      'knownDaemons `serviceOf({ taskArn: "" ... })` -> "Stryker was here!": equivalent, serviceOf reads the group only',
      'learn `if (daemon !== undefined) entry.daemon = daemon` -> always: equivalent, every reader of KnownTask.daemon treats undefined as absent, and the record is written with removeUndefinedValues',
    ],
  },
  'event-pattern': {
    mutate: 'functions/shared/event-pattern.ts',
    tests: ['test/shared/event-pattern.test.ts'],
    equivalent: [
      'matchScalar `operator === undefined ? undefined : rule[operator]` -> always rule[operator]: equivalent, rule["undefined"] is undefined for every filter object',
      'ignoreCaseOperand `?? ""` -> "Stryker was here!": unreachable for a valid pattern, a prefix/suffix object always carries an equals-ignore-case string',
      'excluded `argument === null` -> false: unreachable for a valid pattern, anything-but null is rejected',
      'wildcardPieces `pattern[++i] ?? ""` -> "Stryker was here!": unreachable for a valid pattern, a trailing backslash is rejected',
      'checkWildcard `i < pattern.length` -> `<=`: equivalent, the extra step reads undefined, neither a backslash nor a star',
      "checkNumeric `typeof operator !== 'string'` -> false: equivalent, a non-string operator fails the membership test that follows",
      "checkNumeric `typeof bound !== 'number'` -> false: equivalent, Number.isFinite is false for every non-number",
      "checkAnythingBut `typeof argument === 'number'` and `typeof item === 'number'` -> true: equivalent, Number.isFinite is false for every non-number",
    ],
    left: [
      "matchNested `typeof item === 'object' && item !== null` (4 mutants: -> true, `||`, either side -> true): they let a null or scalar element of an array that also holds objects satisfy `exists: false`; AWS documents no behaviour for such mixed arrays, so no test pins one",
    ],
  },
  plan: {
    mutate: 'functions/cleanup/plan.ts',
    tests: ['test/cleanup/plan.test.ts'],
    equivalent: [
      'perCommandRate `batches <= 1` -> false, and -> `batches < 1`: equivalent for every value the config schema accepts (counts are integers >= 1), since with one batch max(min, floor(n / 1)) is n',
      'commentToken / commentCluster `comment ?? ""` -> "Stryker was here!": equivalent, neither string ends with a batch token',
    ],
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
    // corpus.test.ts is a unit test of classify too (corpus string in, category
    // out): since the classifier by evidence, most of the rules' promises (one
    // real string per wording) are stated there.
    tests: ['test/stopped-watch/classify.test.ts', 'test/stopped-watch/corpus.test.ts'],
    equivalent: [
      'classifyText `raw.length > MAX_SCAN` -> true, and -> `>=`: equivalent, slicing a string no longer than the bound returns it unchanged',
      'truncate `text.length > MAX_REASON` -> true, and -> `>=`: equivalent, for the same reason',
      'exitHint `default: return undefined` removed: equivalent, the function returns undefined anyway',
      "byClass `case 'outofmemoryerror'` (its literal blanked, its case emptied): unreachable, RE_OOM (/OutOfMemory/) is tested before the class and answers oom first",
      'classifyReason (non-string text) `stopCode === undefined` -> false: equivalent, CODE_VERDICT[undefined] is undefined',
      "classifyReason the stopCode-field shortcut, `ctx?.field === 'stopCode'` -> true: unreachable: only a reason text (stoppedReason, a container reason) that is exactly a stop code name could tell, and ECS writes sentences there, the code name only in stopCode",
      'classifyReason the stopCode-field shortcut, `text.trim()` -> text: unreachable, ECS sends the TaskStopCode enum value as is, never padded',
      'classifyReason `text.length === 0 ? undefined : classifyText(text)` -> always classifyText: equivalent, classifyText("") matches no rule',
      'classifyReason fallback `stopCode !== undefined` -> true: equivalent, CODE_VERDICT[undefined] is undefined',
      'classifyReason fallback `ctx?.exitCode` -> `ctx.exitCode`: equivalent, a stop code comes from ctx, so ctx is defined there',
      "refineHint `?? HINTS['essential-exit']` -> HINTS['']: unreachable, every essential-exit verdict carries a hint",
      "optNumber `typeof v === 'string'` -> true: unreachable, only a non-string whose String() is a decimal (an array [137]) could tell, and no relay sends an exit code as an array",
      'readContainers `return []` (containers null or absent, and containers not an array) -> ["Stryker was here"] (2 mutants): equivalent, an element without fields has no reason, exit code or health status, and one such element is still fewer than two containers',
      'classifyTask `stopCode !== undefined` -> true before the CODE_VERDICT lookup: equivalent, CODE_VERDICT[undefined] is undefined',
      'classifyStoppedTask `best !== undefined && bestVerdict !== undefined` (3 mutants): equivalent, the two are always set together',
      'STEADY_SERVICE_EVENTS emptied or its names blanked (4 mutants): unreachable, AWS sends steady-state Service Actions with eventType INFO, which returns null by itself',
    ],
    left: [
      // Regex leniency: each optional part or range is there for a wording we
      // have no real sample of (in the corpus's training part or the shared
      // sample); a test would need an invented message. Held-out strings are
      // not used as unit-test inputs: that would tune on them.
      'RE_DISK_FULL `Thin ?Pool` and `thin ?pool` made strict, `disk (?:is )?full` made to require "is" (no "ThinPool"/"thinpool ... full"/"disk full" sample)',
      'RE_CLASS `ContainerRuntime(?:Timeout)?Error` made to require Timeout (no ContainerRuntimeError sample)',
      'RESOURCE_INIT_RULES secrets `retrieve secrets? from`, `download env files?`, and the fourth rule `secrets?`, `env files?`, `GetParameters?`, and its category blanked (every real secrets message also says "pull secrets or registry auth")',
      'RESOURCE_INIT_RULES efs `\\bfs-[0-9a-f<]` negated (real EFS messages also say EFS or mount.nfs)',
      "RESOURCE_INIT_RULES logging `log(?:ging)? driver`, `fluent-?bit` made strict, and its category blanked: under ResourceInitializationError runtimeCause reads RE_LOGGING first, so only a message naming CloudWatch or logs:CreateLog*/PutLog* without RE_LOGGING's words reaches the rule (no sample)",
      'RESOURCE_INIT_RULES network and TEXT_RULES ENI rule `free (?:Ipv4 )?addresses` made to require "Ipv4 " (no sample without it)',
      'RE_NETWORK_FAILURE `\\btimed? ?out\\b` made strict (2 mutants; real secrets timeouts also say i/o timeout, context deadline exceeded or send request failed)',
      'RE_LOGGING `log(?:ging)? driver` and `fluent-?bit` made strict (no "log driver"/"fluentbit" sample outside RE_LOGGING\'s other words)',
      'RE_PULL `https?://` made to require https; PULL_RULES layer `.{0,200}` narrowed, rate limit `rate ?limit`, auth `not authori[sz]ed` negated, `authentication (?:is )?required`, `access (?:to the requested resource is )?denied`, network `HTTP status: 5\\d\\d` and `50[234]` negated (real messages also match another alternative)',
      "PULL_RULES `Check whether the image exists` category blanked: its only real sample is in the corpus's held-out part",
      'RE_COMMAND_NOT_FOUND closing quote `"?` made required (2 mutants), `\\S{1,200}` narrowed to one character or made `\\s` (no unquoted or one-character sample)',
      'RE_RUNTIME_CREATE `bind (?:mount )?source` and RE_RUNTIME_START `failed to create endpoint \\S+` narrowed (2 mutants; the samples also say "driver failed programming" or "Cannot start container")',
      'TEXT_RULES rollback `roll(?:ing|ed)? ?back` made strict (2 mutants); elb `^Unhealthy` anchor, `health checks?`, `\\(?`, `target group.{0,60}` narrowed; container `health checks?` made plural',
      'TEXT_RULES placement `(?:a |the )?tasks?`, `instances? met`, `ports?`, `resources?` (real messages also match another alternative)',
      'TEXT_RULES spot `interrupt.{0,60}spot`, host `instance (?:was |has been )?`, autoscaling `Auto ?Scaling` (no sample needs them alone)',
      'TEXT_RULES benign `^ECS deployment` anchor, `has (?:started|stopped) \\d+ (?:running )?tasks?`, `(?:de)?registered \\d+ targets?` narrowed (7 mutants; the training samples all say "has started/stopped 1 (running) tasks", and the "ECS deployment … completed" and "registered 1 targets" samples are held-out)',
      'byClass CannotStart/CannotCreate with a ResourceInitializationError inside (4 mutants: the test -> true/false, its block emptied, `r !== V_RESOURCE_INIT_OTHER` -> false), and the ResourceInitializationError `container runtime task` branch `firstMatch(...) === undefined` -> true: every real sample of both shapes names no resource stage (the runtime start failure, or a mount callback), so the stage check never decides',
    ],
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
      'acquireJobSlot / acquireOccurrence first `(await putIfAbsent(deps.store, ...)).ok` -> false: equivalent, the write is dropped and the read-then-putIfAbsent that follows does the same write (one more read)',
      'acquireJobSlot why `this occurrence already started ...` -> ``: equivalent, runOccurrence does not log the why in that branch',
      "releaseAfterFailure `job.overlap === 'skip'` -> true: equivalent, an `allow` job has no slot, and the owner-conditional delete finds nothing",
      "acquireOccurrence takeover condition refusal 'stale' -> '', and releaseOnStopped delete condition refusal 'not-owner' -> '': equivalent, lock.ts reads only `.ok` of those two writes, never the reason",
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
