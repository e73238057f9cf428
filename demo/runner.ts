/**
 * Runs the demo's scenarios, each on a fresh simulator, and reports whether
 * each one's expected outcome happened. `npm start` (demo/run.ts) and
 * test/demo/demo.test.ts both call runDemo.
 */
import type { FunctionId } from '../infra/functions/ids.ts';
import { startSim, type Sim } from '../sim/index.ts';
import { LambdaRuntime } from '../sim/lambda.ts';
import { describeCleanup, describeDrain, describeStoppedWatch, describeTaskLock } from './describe.ts';
import { DemoFunction, type Describer } from './lambda.ts';
import { drainScenario } from './scenarios/drain.ts';
import { oomStormScenario } from './scenarios/oom-storm.ts';
import { taskLockScenario } from './scenarios/task-lock.ts';
import { thinPoolScenario } from './scenarios/thin-pool.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';
import { buildWorld, type World } from './world.ts';

export interface Check {
  label: string;
  value: string;
  ok: boolean;
}

export interface FunctionOptions {
  /** Start the function's rate(...) schedules (default true); a scenario that plays the scheduler itself turns them off. */
  schedules?: boolean;
}

export interface ScenarioContext {
  world: World;
  sim: Sim;
  timeline: Timeline;
  /** The function, cold-started with its deployed environment and subscribed to its rules. */
  fn(id: DemoFunctionId, options?: FunctionOptions): Promise<DemoFunction>;
  /** Records whether an expected outcome happened; `value` is what was seen. */
  check(label: string, ok: boolean, value: string): void;
}

export interface Scenario {
  name: string;
  /** One line for --list and the heading. */
  title: string;
  /** Simulated start time. */
  start: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export const scenarios: Scenario[] = [drainScenario, thinPoolScenario, taskLockScenario, oomStormScenario];

export const FAULTS = {
  api: { throttle: 0.2 },
  events: { duplicate: 0.3, maxCopies: 3, reorderWindowMs: 10_000 },
  describe: '20% of API calls throttled (ECS, Auto Scaling, SNS, EventBridge, SSM, DynamoDB); 30% of event deliveries duplicated, all reordered within 10 s',
} as const;

// Lambda timers (SDK backoff, rate limiting) take a fiftieth of their delay in wall time ('ahead' time, sim/lambda.ts).
const LAMBDA_SPEEDUP = 50;

export type Bundles = Record<FunctionId, { file: string }>;

export interface DemoOptions {
  bundles: Bundles;
  names?: string[];
  faults?: boolean;
  print?: boolean;
  /** Where printed lines go; default stdout. */
  write?: (line: string) => void;
  seed?: number;
}

export interface ScenarioReport {
  name: string;
  title: string;
  ok: boolean;
  checks: Check[];
  /** Set when the scenario itself crashed. */
  error?: string;
  wallMs: number;
  simulatedMs: number;
  apiCalls: number;
  throttled: number;
  duplicateDeliveries: number;
  timeline: TimelineEntry[];
}

export interface DemoReport {
  ok: boolean;
  faults: boolean;
  scenarios: ScenarioReport[];
}

/** The functions the scenarios play; the audit function has no scenario yet. */
type DemoFunctionId = Exclude<FunctionId, 'audit'>;

const DESCRIBERS: Record<DemoFunctionId, (world: World) => Describer> = {
  'task-lock': describeTaskLock,
  drain: describeDrain,
  'stopped-watch': describeStoppedWatch,
  cleanup: describeCleanup,
};

let runs = 0;

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const chosen = options.names?.length ? options.names.map(findScenario) : scenarios;
  const faults = options.faults ?? false;
  const write = options.write ?? ((line: string) => console.log(line));
  const print = options.print ?? true;
  const savedEnv = { ...process.env };
  const reports: ScenarioReport[] = [];
  const run = ++runs;
  try {
    for (const [index, scenario] of chosen.entries()) {
      if (print) write(`\n▶ [${index + 1}/${chosen.length}] ${scenario.name}: ${scenario.title}${faults ? ' (faults on)' : ''}`);
      reports.push(await runScenario(scenario, { ...options, faults, print, write, tag: `run${run}-${scenario.name}` }));
      const last = reports.at(-1)!;
      if (print) {
        const passed = last.checks.filter((c) => c.ok).length;
        write(
          `${last.ok ? '✓' : '✗'} ${scenario.name}: ${passed}/${last.checks.length} checks hold${last.error ? `; crashed: ${last.error.split('\n')[0]}` : ''} (${(last.wallMs / 1000).toFixed(1)} s)`,
        );
      }
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
  return { ok: reports.every((r) => r.ok), faults, scenarios: reports };
}

export function findScenario(name: string): Scenario {
  const scenario = scenarios.find((s) => s.name === name);
  if (!scenario) throw new Error(`Unknown scenario "${name}"; --list shows them: ${scenarios.map((s) => s.name).join(', ')}`);
  return scenario;
}

async function runScenario(
  scenario: Scenario,
  opts: DemoOptions & { faults: boolean; print: boolean; write: (line: string) => void; tag: string },
): Promise<ScenarioReport> {
  const started = performance.now();
  const simStart = new Date(scenario.start);
  // The bundles run on the simulated clock, so the replies are dated by it too.
  const sim = await startSim({ start: simStart, seed: opts.seed ?? 7, dateHeader: 'sim' });
  const timeline = new Timeline(sim, { print: opts.print, write: opts.write });
  const checks: Check[] = [];
  const functions: DemoFunction[] = [];
  const runtime = await LambdaRuntime.start({ time: { mode: 'ahead', speedup: LAMBDA_SPEEDUP }, endpoints: 'direct' });
  const byId = new Map<string, DemoFunction>();
  let error: string | undefined;
  try {
    const world = await buildWorld(sim, timeline);
    // The functions' SDK clients go straight to this scenario's simulator, with every service the world installed (sim.env()).
    runtime.attach(sim);
    runtime.onStart = (inv) => byId.get(inv.fn)?.began();
    runtime.onEnd = (inv) => byId.get(inv.fn)?.ended(inv);
    if (opts.faults) {
      sim.faults.set(FAULTS.api);
      sim.faults.events(FAULTS.events);
    }
    const ctx: ScenarioContext = {
      world,
      sim,
      timeline,
      async fn(key, fnOptions = {}) {
        const fn = new DemoFunction({
          key,
          label: key,
          file: opts.bundles[key].file,
          coldStartTag: opts.tag,
          sim,
          runtime,
          timeline,
          describe: DESCRIBERS[key](world),
        });
        byId.set(key, fn);
        await fn.load();
        fn.subscribeRules();
        if (fnOptions.schedules !== false) fn.startSchedules();
        functions.push(fn);
        return fn;
      },
      check: (label, ok, value) => void checks.push({ label, ok, value }),
    };
    await scenario.run(ctx);
    const dead = functions.flatMap((f) => f.deadLetters.map((d) => `${f.label}: ${d.error.message}`));
    ctx.check('no event left in a dead-letter queue', dead.length === 0, dead.length ? dead.join('; ') : 'none');
    const bugs = sim.calls.filter((c) => c.bug !== undefined);
    ctx.check(
      'the simulator answered every call',
      bugs.length === 0,
      bugs.length ? `${bugs.length} simulator errors: ${String(bugs[0]!.bug).slice(0, 200)}` : 'yes',
    );
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    await runtime.close();
    await sim.close();
  }
  return {
    name: scenario.name,
    title: scenario.title,
    ok: error === undefined && checks.every((c) => c.ok),
    checks,
    error,
    wallMs: performance.now() - started,
    simulatedMs: sim.clock.now() - simStart.getTime(),
    apiCalls: sim.calls.length,
    throttled: sim.calls.filter((c) => c.error === 'ThrottlingException').length,
    duplicateDeliveries: sim.bus.delivered.filter((d) => d.copy > 1 && !d.subscriber.startsWith('demo-')).length,
    timeline: timeline.entries,
  };
}
