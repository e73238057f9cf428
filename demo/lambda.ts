/**
 * A built bundle run as Lambda runs it: imported once with the function's
 * deployed environment (a cold start), invoked with a Lambda context, fed by
 * its own rules and schedules on the simulated bus and clock, and, for
 * asynchronous invocations, retried twice (after 1 and 2 minutes) before the
 * event goes to the function's dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { functionKey, type FunctionId } from '../infra/functions/ids.ts';
import type { Sim } from '../sim/index.ts';
import { fakeContext } from './context.ts';
import { functionName, lambdaEnvironment, rulesOf, schedulesOf, timeoutSecondsOf, type Schedule } from './deployment.ts';
import type { Timeline } from './timeline.ts';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** What a function printed during one invocation: Powertools log lines and EMF metrics. */
export interface Invocation {
  fn: FunctionId;
  requestId: string;
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

// Lambda's asynchronous invocation: two retries, one and two minutes apart (Lambda developer guide, "Asynchronous invocation").
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];

/**
 * Takes the bundles' stdout/stderr while the demo runs: Powertools writes JSON
 * log lines and EMF documents there, which belong to the invocation that
 * wrote them, not on the demo's screen.
 */
export class LambdaOutput {
  private readonly inFlight: Invocation[] = [];

  begin(invocation: Invocation): void {
    this.inFlight.push(invocation);
  }

  end(invocation: Invocation): void {
    const i = this.inFlight.indexOf(invocation);
    if (i >= 0) this.inFlight.splice(i, 1);
  }

  install(): () => void {
    const streams = [process.stdout, process.stderr] as const;
    const originals = streams.map((s) => s.write);
    streams.forEach((stream, i) => {
      const original = originals[i]!;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (this.consume(String(chunk))) {
          const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
          done?.();
          return true;
        }
        return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
    });
    return () => streams.forEach((stream, i) => (stream.write = originals[i]!));
  }

  /** True when every line of the chunk came from a bundle; those lines go to the invocation that wrote them. */
  private consume(text: string): boolean {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map(parseLambdaLine);
    if (lines.length === 0 || parsed.some((p) => p === undefined)) return false;
    for (const line of parsed as LambdaLine[]) {
      if (line.kind === 'metrics') {
        const owner = [...this.inFlight].reverse().find((i) => functionKey(i.fn) === line.doc.service) ?? this.inFlight.at(-1);
        for (const { Name } of line.doc._aws.CloudWatchMetrics?.[0]?.Metrics ?? []) {
          const value = line.doc[Name];
          if (owner && typeof value === 'number') owner.metrics[Name] = (owner.metrics[Name] ?? 0) + value;
        }
      } else if (line.kind === 'log') {
        const owner = this.inFlight.find((i) => i.requestId === line.doc.function_request_id) ?? this.inFlight.at(-1);
        owner?.logs.push(line.doc);
      }
    }
    return true;
  }
}

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

export interface DemoFunctionDeps {
  key: FunctionId;
  /** The bundle's file; imported with a fresh query string so that each scenario gets its own cold start. */
  file: string;
  coldStartTag: string;
  sim: Sim;
  /** The AWS_ENDPOINT_URL_* variables the bundle gets. */
  endpoints: () => Record<string, string>;
  timeline: Timeline;
  output: LambdaOutput;
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
  private handler?: Handler;
  private readonly deps: DemoFunctionDeps;

  constructor(deps: DemoFunctionDeps) {
    this.deps = deps;
    this.key = deps.key;
    this.label = deps.label;
    this.describe = deps.describe;
  }

  /** The cold start: the bundle reads its configuration from the environment at import, as in Lambda. */
  async load(): Promise<this> {
    const { key } = this.deps;
    Object.assign(
      process.env,
      this.deps.endpoints(),
      lambdaEnvironment(key, {
        AWS_LAMBDA_FUNCTION_NAME: functionName(key),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        // No X-Ray daemon here; the deployed functions trace.
        POWERTOOLS_TRACE_ENABLED: 'false',
        POWERTOOLS_METRICS_DISABLED: 'false',
      }),
    );
    const url = `${pathToFileURL(this.deps.file).href}?${this.deps.coldStartTag}`;
    this.handler = ((await import(url)) as { handler: Handler }).handler;
    return this;
  }

  private context(): Context {
    return fakeContext(functionName(this.key), timeoutSecondsOf(this.key) * 1000);
  }

  /** One invocation, described on the timeline; a failing handler does not throw here, its outcome says how it ended. */
  async invoke(event: unknown, describe: Describer = this.describe): Promise<Outcome> {
    if (!this.handler) throw new Error(`demo: ${this.key} was not loaded`);
    const { timeline, output } = this.deps;
    const context = this.context();
    const invocation: Invocation = { fn: this.key, requestId: context.awsRequestId, logs: [], metrics: {} };
    timeline.begin();
    output.begin(invocation);
    let outcome: Outcome;
    try {
      outcome = { result: await this.handler(structuredClone(event), context) };
    } catch (error) {
      outcome = { error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      output.end(invocation);
    }
    this.invocations.push({ invocation, outcome });
    try {
      const said = outcome.error ? { text: `failed: ${outcome.error.message}` } : describe(event, outcome, invocation);
      if (said) {
        // The handler's own "invocation failed" line repeats the error already in the text.
        const errors = invocation.logs.filter((l) => l.level === 'ERROR' && !/invocation failed$/.test(l.message)).map((l) => `✗ ${l.message}`);
        timeline.log(this.label, said.text, {
          detail: [...(said.detail ?? []), ...errors],
          logs: invocation.logs.map((l) => ({ level: l.level, message: l.message })),
          metrics: invocation.metrics,
        });
      }
    } finally {
      timeline.end();
    }
    return outcome;
  }

  /** An asynchronous invocation (EventBridge rules, Scheduler, schedules): a failure is retried on the simulated clock. */
  async deliver(event: unknown, describe?: Describer, attempt = 0): Promise<Outcome> {
    const outcome = await this.invoke(event, describe);
    if (!outcome.error) return outcome;
    const delay = ASYNC_RETRY_DELAYS_MS[attempt];
    if (delay === undefined) {
      this.deadLetters.push({ event, error: outcome.error });
      this.deps.timeline.note(`${this.label}: the event failed its last retry and went to the dead-letter queue`);
      return outcome;
    }
    this.deps.timeline.note(`${this.label}: Lambda retries the event in ${delay / 60_000} min`);
    this.deps.sim.clock.after(delay, () => this.deliver(event, describe, attempt + 1).then(() => undefined));
    return outcome;
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
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: sim.account,
    time,
    region: sim.region,
    resources: [`arn:aws:events:${sim.region}:${sim.account}:rule/${schedule.name}`],
    detail: {},
  };
}
