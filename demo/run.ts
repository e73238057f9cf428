/**
 * `npm start`: a narrated demonstration of ecs-caretaker on a simulated
 * cluster, no AWS account needed. It builds the Lambda bundles exactly as they
 * are deployed and runs them against the built-in simulator (sim/) through
 * AWS_ENDPOINT_URL_* variables, with the environment, rules and schedules the
 * demo configuration deploys (demo/deployment.ts).
 *
 *   npm start                          all scenarios
 *   npm start -- --list                list the scenarios
 *   npm start -- --scenario drain      one scenario (repeatable)
 *   npm start -- --faults              throttle API calls, duplicate and reorder events
 *   npm start -- --json out.json       also write the timeline as JSON
 *
 * Exits 1 when an expected outcome did not happen, 2 on a usage error.
 */
import { writeFileSync } from 'node:fs';
import { buildBundles } from '../scripts/build.ts';
import { FAULTS, findScenario, runDemo, scenarios, type DemoReport } from './runner.ts';

class UsageError extends Error {}

function parseArgs(argv: string[]) {
  const args = { list: false, faults: false, json: undefined as string | undefined, scenarios: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--list') args.list = true;
    else if (a === '--faults') args.faults = true;
    else if (a === '--json') args.json = value();
    else if (a === '--scenario') args.scenarios.push(value());
    else throw new UsageError(`Unknown option ${a}. Use --list, --scenario <name>, --faults or --json <file>.`);
  }
  for (const name of args.scenarios) {
    try {
      findScenario(name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return args;
}

function printSummary(report: DemoReport, seconds: number): void {
  const rows = report.scenarios.flatMap((s) => [
    ...s.checks.map((c) => [s.name, c.label, c.value, c.ok ? '✓' : '✗'] as const),
    ...(s.error ? [[s.name, 'the scenario ran to its end', s.error.split('\n')[0]!, '✗'] as const] : []),
  ]);
  const width = (i: number, max: number) => Math.min(max, Math.max(...rows.map((r) => String(r[i]).length)));
  const [w0, w1] = [width(0, 12), width(1, 80)];
  console.log(`\nSummary${report.faults ? ` (with faults: ${FAULTS.describe})` : ''}`);
  console.log(`  ${'scenario'.padEnd(w0)}  ${'expected outcome'.padEnd(w1)}     seen`);
  for (const [name, label, value, mark] of rows) console.log(`  ${name.padEnd(w0)}  ${label.padEnd(w1)}  ${mark}  ${value}`);
  const calls = report.scenarios.reduce((n, s) => n + s.apiCalls, 0);
  const throttled = report.scenarios.reduce((n, s) => n + s.throttled, 0);
  const dups = report.scenarios.reduce((n, s) => n + s.duplicateDeliveries, 0);
  const simulated = report.scenarios.reduce((n, s) => n + s.simulatedMs, 0);
  console.log(
    `\n${report.scenarios.length} scenario${report.scenarios.length === 1 ? '' : 's'}, ${(simulated / 60_000).toFixed(0)} simulated minutes, ${calls} API calls` +
      `${report.faults ? ` (${throttled} throttled and retried), ${dups} duplicate event deliveries` : ''}; ${seconds.toFixed(1)} s wall clock.`,
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(12)} ${s.title}`);
    return 0;
  }
  const started = performance.now();
  console.log('ecs-caretaker demo: building the Lambda bundles (scripts/build.ts)…');
  const bundles = await buildBundles();
  console.log(
    `Running ${args.scenarios.length ? args.scenarios.join(', ') : 'every scenario'} against the simulator${args.faults ? ` with faults: ${FAULTS.describe}` : ''}.`,
  );
  const report = await runDemo({ bundles, names: args.scenarios, faults: args.faults });
  printSummary(report, (performance.now() - started) / 1000);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Timeline written to ${args.json}`);
  }
  if (report.ok) return 0;
  const failed = report.scenarios.flatMap((s) => [
    ...s.checks.filter((c) => !c.ok).map((c) => `  ${s.name}: expected ${c.label}; saw ${c.value}`),
    ...(s.error ? [`  ${s.name}: crashed: ${s.error}`] : []),
  ]);
  console.error(`\ndemo failed: ${failed.length === 1 ? 'an expected outcome' : `${failed.length} expected outcomes`} did not happen:\n${failed.join('\n')}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`demo failed: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
