/**
 * Runs a scenario generator as a fast-check property, seeded from E2E_SEED
 * when set, and turns a failure into a message that says how to replay it.
 */
import fc from 'fast-check';

export function e2eSeed(): number {
  const given = process.env.E2E_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`E2E_SEED must be an integer, got "${given}"`);
    return seed;
  }
  return Math.floor(Math.random() * 0x7fffffff);
}

export interface PropertyOptions<T> {
  /** Shown in messages, e.g. "drain". */
  name: string;
  /** The test file, for the replay command. */
  file: string;
  arbitrary: fc.Arbitrary<T>;
  numRuns: number;
  /** Throws when an invariant does not hold. */
  run: (scenario: T) => Promise<void>;
  seed?: number;
}

export const replayCommand = (seed: number, path: string | null | undefined, file: string): string =>
  `E2E_SEED=${seed}${path ? ` E2E_PATH=${path}` : ''} npx vitest run ${file}`;

/**
 * One fast-check run. No shrinking: a scenario's interleavings of concurrent
 * invocations depend on real I/O timing, so a shrunk scenario may not fail the
 * same way, and shrinking would run many more scenarios than CI allows. The
 * seed and path replay the failing scenario itself.
 */
export async function checkScenarios<T>(opts: PropertyOptions<T>): Promise<{ seed: number; runs: number }> {
  const seed = opts.seed ?? e2eSeed();
  const path = process.env.E2E_PATH || undefined;
  const run = process.env.E2E_PROGRESS ? withProgress(opts.name, opts.run) : opts.run;
  const details = await fc.check(fc.asyncProperty(opts.arbitrary, run), { seed, path, numRuns: opts.numRuns, endOnFailure: true });
  if (details.failed) {
    const report = fc.defaultReportMessage(details) ?? 'the property failed';
    const error = details.errorInstance;
    // An invariant's message says it all; anything else is a harness or function crash, whose stack helps.
    const cause = error instanceof Error ? (error.message.includes('\n') ? error.message : (error.stack ?? error.message)) : String(error);
    throw new Error(
      `${opts.name}: a random scenario broke an invariant. Replay it: ${replayCommand(details.seed, details.counterexamplePath, opts.file)}\n${cause}\n\n${report}`,
    );
  }
  return { seed: details.seed, runs: details.numRuns };
}

/** E2E_PROGRESS=1: one stderr line per scenario, with its wall time and the process's memory. */
function withProgress<T>(name: string, run: (scenario: T) => Promise<void>): (scenario: T) => Promise<void> {
  let n = 0;
  return async (scenario) => {
    const started = performance.now();
    try {
      await run(scenario);
    } finally {
      const { rss, heapUsed } = process.memoryUsage();
      process.stderr.write(
        `${name} scenario ${++n}: ${(performance.now() - started).toFixed(0)} ms, rss ${(rss / 2 ** 20).toFixed(0)} MB, heap ${(heapUsed / 2 ** 20).toFixed(0)} MB\n`,
      );
    }
  };
}
