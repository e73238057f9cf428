/**
 * `npm start`: a narrated demonstration of ecs-caretaker on a simulated
 * cluster, no AWS account needed. It builds the Lambda bundles exactly as they
 * are deployed and runs them against the built-in simulator (sim/) through
 * AWS_ENDPOINT_URL_* variables.
 *
 *   npm start                          all scenarios
 *   npm start -- --list                list the scenarios
 *   npm start -- --scenario task-lock  one scenario
 *   npm start -- --json out.json       also write the timeline as JSON
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { buildBundles, type FunctionKey } from '../scripts/build.ts';
import { startSim } from '../sim/index.ts';
import { fakeContext } from './context.ts';
import { taskLockScenario, type ScenarioResult } from './scenarios/task-lock.ts';
import { Timeline } from './timeline.ts';

type Handler = (event: unknown, context: Context) => Promise<any>;
type Scenario = {
  description: string;
  fn: FunctionKey;
  run: (sim: Awaited<ReturnType<typeof startSim>>, timeline: Timeline, load: (env: Record<string, string>) => Promise<Handler>, context: () => Context) => Promise<ScenarioResult>;
};

const scenarios: Record<string, Scenario> = {
  'task-lock': { description: 'a scheduled job fires three times and runs once; a job never overlaps itself', fn: 'taskLock', run: taskLockScenario },
};

function parseArgs(argv: string[]) {
  const args = { list: false, json: undefined as string | undefined, scenario: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') args.list = true;
    else if (a === '--json') args.json = argv[++i] ?? 'demo-timeline.json';
    else if (a === '--scenario') args.scenario = argv[++i];
    else throw new Error(`Unknown option ${a}. Use --list, --scenario <name> or --json <file>.`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const [name, s] of Object.entries(scenarios)) console.log(`${name.padEnd(14)} ${s.description}`);
    return;
  }
  if (args.scenario && !scenarios[args.scenario]) throw new Error(`Unknown scenario "${args.scenario}"; --list shows them: ${Object.keys(scenarios).join(', ')}`);
  const chosen = args.scenario ? [args.scenario] : Object.keys(scenarios);

  const started = Date.now();
  console.log('ecs-caretaker demo: building the Lambda bundles…');
  const bundles = await buildBundles();
  const summary: Array<[string, string, string]> = [];
  const timelines: Record<string, unknown> = {};

  for (const name of chosen) {
    const scenario = scenarios[name]!;
    const sim = await startSim({ start: new Date('2026-11-24T01:00:00Z'), seed: 7 });
    const timeline = new Timeline(sim, true);
    // The bundle reads its configuration at import, like a Lambda cold start.
    const load = async (env: Record<string, string>) => {
      Object.assign(process.env, sim.env(), { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_TRACE_ENABLED: 'false', POWERTOOLS_METRICS_DISABLED: 'true' }, env);
      const url = `${pathToFileURL(bundles[scenario.fn].file).href}?scenario=${name}`;
      return ((await import(url)) as { handler: Handler }).handler;
    };
    try {
      const result = await scenario.run(sim, timeline, load, () => fakeContext(`ecs-caretaker-demo-${scenario.fn}`));
      for (const [what, value] of result.summary) summary.push([name, what, value]);
      timelines[name] = timeline.entries;
    } finally {
      await sim.close();
    }
  }

  console.log('\nSummary');
  const width = Math.max(...summary.map(([, w]) => w.length));
  for (const [name, what, value] of summary) console.log(`  ${name.padEnd(12)} ${what.padEnd(width)}  ${value}`);
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s (wall clock).`);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(timelines, null, 2));
    console.log(`Timeline written to ${args.json}`);
  }
}

main().catch((error: Error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
