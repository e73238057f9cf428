/**
 * The demo's functions: each one's built bundle deployed, with the
 * environment the demo configuration gives it, on the one Lambda runtime
 * (sim/lambda.ts) in 'ahead' time, where the demo awaits every invocation;
 * fed by its own rules and schedules on the simulated bus and clock; retried
 * twice (after 1 and 2 minutes) and dead-lettered by the runtime; and
 * narrated on the timeline as each attempt ends.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { FunctionId } from '../infra/functions/ids.ts';
import { scheduledEvent } from '../sim/eventbridge.ts';
import type { Sim } from '../sim/index.ts';
import { ASYNC_RETRY_DELAYS_MS, type Handler, type Invocation as RuntimeInvocation, type LambdaRuntime } from '../sim/lambda.ts';
import { functionName, lambdaEnvironment, rulesOf, schedulesOf, timeoutSecondsOf, type Schedule } from './deployment.ts';
import type { Timeline } from './timeline.ts';

/** What a function printed during one invocation: Powertools log lines and EMF metrics. */
export interface Invocation {
  fn: FunctionId;
  logs: Array<Record<string, any>>;
  metrics: Record<string, number>;
}

export type Outcome = { result: any; error?: undefined } | { error: Error; result?: undefined };

export interface Said {
  text: string;
  detail?: string[];
}

/** Turns one invocation into a timeline line; undefined keeps it off the printed timeline (its calls go to the next line). */
export type Describer = (event: any, outcome: Outcome, invocation: Invocation) => Said | undefined;

type LambdaLine = { kind: 'noise' } | { kind: 'metrics' | 'log'; doc: Record<string, any> };

function parseLambdaLine(line: string): LambdaLine | undefined {
  // Metrics with nothing to publish say so on every invocation that had none; it is noise here.
  if (line.includes('No application metrics to publish')) return { kind: 'noise' };
  if (!line.startsWith('{')) return undefined;
  let doc: Record<string, any>;
  try {
    doc = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (doc._aws) return { kind: 'metrics', doc };
  if (typeof doc.level === 'string' && typeof doc.message === 'string') return { kind: 'log', doc };
  return undefined;
}

/** The Powertools log lines and the EMF metrics (summed by name) among the lines the invocation wrote. */
function narrated(fn: FunctionId, lines: string[]): Invocation {
  const invocation: Invocation = { fn, logs: [], metrics: {} };
  for (const line of lines.map(parseLambdaLine)) {
    if (line?.kind === 'metrics') {
      for (const { Name } of line.doc._aws.CloudWatchMetrics?.[0]?.Metrics ?? []) {
        const value = line.doc[Name];
        if (typeof value === 'number') invocation.metrics[Name] = (invocation.metrics[Name] ?? 0) + value;
      }
    } else if (line?.kind === 'log') {
      invocation.logs.push(line.doc);
    }
  }
  return invocation;
}

export interface DemoFunctionDeps {
  key: FunctionId;
  /** The bundle's file; each cold start imports it with a query string of its own, for a module instance of its own. */
  file: string;
  coldStartTag: string;
  sim: Sim;
  runtime: LambdaRuntime;
  timeline: Timeline;
  describe: Describer;
  /** The name the function has on the timeline. */
  label: string;
}

export class DemoFunction {
  readonly key: FunctionId;
  readonly label: string;
  /** Events that failed their last retry: what the function's DLQ would hold. */
  readonly deadLetters: Array<{ event: unknown; error: Error }> = [];
  readonly invocations: Array<{ invocation: Invocation; outcome: Outcome }> = [];
  describe: Describer;
  private readonly deps: DemoFunctionDeps;
  /** A describer that threw while the runtime reported an attempt; the caller waiting for it gets the error. */
  private failure?: unknown;
  /** By runtime invocation id. */
  private readonly outcomes = new Map<number, Outcome>();

  constructor(deps: DemoFunctionDeps) {
    this.deps = deps;
    this.key = deps.key;
    this.label = deps.label;
    this.describe = deps.describe;
  }

  /** Deploys the bundle and cold-starts it: it reads its configuration from the environment at import, as in Lambda. */
  async load(): Promise<this> {
    const { key, file, coldStartTag, runtime } = this.deps;
    let coldStarts = 0;
    runtime.deploy({
      name: key,
      functionName: functionName(key),
      timeoutMs: timeoutSecondsOf(key) * 1000,
      env: lambdaEnvironment(key, {
        AWS_LAMBDA_FUNCTION_NAME: functionName(key),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        // No X-Ray daemon here; the deployed functions trace.
        POWERTOOLS_TRACE_ENABLED: 'false',
        POWERTOOLS_METRICS_DISABLED: 'false',
      }),
      load: async () => ((await import(`${pathToFileURL(file).href}?${coldStartTag}-${++coldStarts}`)) as { handler: Handler }).handler,
    });
    await runtime.prewarm(key);
    return this;
  }

  /** The runtime starts an attempt: the AWS calls from here on go to its timeline line. */
  began(): void {
    this.deps.timeline.begin();
  }

  /** The runtime ended an attempt: its line on the timeline, then what Lambda does with a failure. */
  ended(inv: RuntimeInvocation): void {
    const { timeline } = this.deps;
    const invocation = narrated(this.key, inv.logs);
    const outcome: Outcome =
      inv.status === 'succeeded' ? { result: inv.result } : { error: Object.assign(new Error(inv.error!.message), { name: inv.error!.name }) };
    this.invocations.push({ invocation, outcome });
    this.outcomes.set(inv.id, outcome);
    try {
      const describe = (inv.meta as Describer | undefined) ?? this.describe;
      const said = outcome.error ? { text: `failed: ${outcome.error.message}` } : describe(inv.event, outcome, invocation);
      if (said) {
        // The handler's own "invocation failed" line repeats the error already in the text.
        const errors = invocation.logs.filter((l) => l.level === 'ERROR' && !/invocation failed$/.test(l.message)).map((l) => `✗ ${l.message}`);
        timeline.log(this.label, said.text, {
          detail: [...(said.detail ?? []), ...errors],
          logs: invocation.logs.map((l) => ({ level: l.level, message: l.message })),
          metrics: invocation.metrics,
        });
      }
    } catch (error) {
      this.failure ??= error;
    } finally {
      timeline.end();
    }
    if (!outcome.error) return;
    const delay = ASYNC_RETRY_DELAYS_MS[inv.attempt - 1];
    if (delay === undefined) {
      this.deadLetters.push({ event: inv.event, error: outcome.error });
      timeline.note(`${this.label}: the event failed its last retry and went to the dead-letter queue`);
    } else {
      timeline.note(`${this.label}: Lambda retries the event in ${delay / 60_000} min`);
    }
  }

  /** An asynchronous invocation (EventBridge rules, Scheduler, schedules), awaited; a failure is retried on the simulated clock. */
  async deliver(event: unknown, describe?: Describer): Promise<Outcome> {
    const inv = await this.deps.runtime.call(this.key, event, 'demo', describe);
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    return this.outcomes.get(inv.id)!;
  }

  /** The function's EventBridge rules on the simulated default bus. */
  subscribeRules(): this {
    for (const rule of rulesOf(this.key)) {
      this.deps.sim.bus.subscribePattern(rule.name, rule.pattern, async (event) => {
        await this.deliver(event);
      });
    }
    return this;
  }

  /** Its rate(...) schedules, from the first whole period on, as EventBridge runs them. */
  startSchedules(): this {
    const { clock } = this.deps.sim;
    for (const schedule of schedulesOf(this.key)) {
      const every = schedule.everyMs;
      if (every === undefined) continue;
      const fire = (at: number) =>
        clock.at(at, async () => {
          fire(at + every);
          await this.deliver(scheduledPayload(this.deps.sim, schedule, at));
        });
      fire(Math.ceil((clock.now() + 1) / every) * every);
    }
    return this;
  }
}

/** What a schedule delivers at `at`: its input with the Scheduler's context attributes filled in, or the Scheduled Event. */
export function scheduledPayload(sim: Sim, schedule: Schedule, at: number, attempt = 1): unknown {
  const time = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (schedule.input) {
    // Scheduler fills these in on every invocation (Scheduler user guide, "Adding context attributes").
    const attributes: Record<string, string> = {
      '<aws.scheduler.scheduled-time>': time,
      '<aws.scheduler.schedule-arn>': `arn:aws:scheduler:${sim.region}:${sim.account}:schedule/default/${schedule.name}`,
      '<aws.scheduler.execution-id>': randomUUID(),
      '<aws.scheduler.attempt-number>': String(attempt),
    };
    return Object.fromEntries(Object.entries(schedule.input).map(([k, v]) => [k, typeof v === 'string' ? (attributes[v] ?? v) : v]));
  }
  return scheduledEvent(sim, schedule.name, at);
}
