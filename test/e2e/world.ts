/**
 * One scenario's world: a fresh simulator (ECS, Auto Scaling, SNS,
 * EventBridge, Systems Manager, DynamoDB behind the dispatcher so that API
 * faults reach it too) with the project's table, the functions' rules and
 * schedules wired to the Lambda runtime, the faults of the scenario, and the
 * malformed events it injected.
 */
import fc from 'fast-check';
import { cleanupDocumentParameters } from '../../functions/cleanup/document-contract.ts';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { installDynamoProxy } from '../../sim/dynamo-proxy.ts';
import { installEventBridge, type EventBridgeSim } from '../../sim/eventbridge.ts';
import { createTable, startSim, type AwsEvent, type Sim } from '../../sim/index.ts';
import { installSns, type SnsSim } from '../../sim/sns.ts';
import { installSsm, type SsmSim } from '../../sim/ssm.ts';
import { DOCUMENT, TABLE } from './functions.ts';
import type { Invocation, KillPlan, LambdaRuntime } from '../../sim/lambda.ts';

/** The faults every scenario runs under; only the delivery faults vary. */
export interface FaultPlan {
  throttle: number;
  serverError: number;
  /** Probability that a delivery is duplicated (2..maxCopies copies). */
  duplicate: number;
  maxCopies: number;
  reorderWindowMs: number;
  lose: number;
}

/**
 * 20 % throttling and 5 % 5xx on every call; each delivery duplicated (up to
 * 3 copies) with some probability, overtaken within a random window, and lost
 * 5 % of the time.
 */
export const faultPlanArbitrary: fc.Arbitrary<FaultPlan> = fc
  .record({
    duplicate: fc.constantFrom(0, 0.2, 0.5),
    reorderWindowMs: fc.integer({ min: 0, max: 30_000 }),
  })
  .map(({ duplicate, reorderWindowMs }) => ({ throttle: 0.2, serverError: 0.05, duplicate, maxCopies: 3, reorderWindowMs, lose: 0.05 }));

/** One invocation killed at one of its AWS calls, as a timeout would kill it. */
export const killPlanArbitrary = (maxInvocation: number, maxCall: number): fc.Arbitrary<KillPlan> =>
  fc.record({ fromInvocation: fc.nat({ max: maxInvocation }), atCall: fc.integer({ min: 1, max: maxCall }) });

export interface Malformed {
  fn: string;
  event: unknown;
  /** 'bus': put on the default bus, so the bus may lose it; 'direct': an async invoke (SNS, a schedule's input, a CLI). */
  via: 'bus' | 'direct';
  /** The error the function must reject it with (a substring of the DLQ entry's message). */
  expect: string;
}

export interface World {
  sim: Sim;
  drain: DrainWorld;
  sns: SnsSim;
  eventBridge: EventBridgeSim;
  ssm: SsmSim;
  runtime: LambdaRuntime;
  malformed: Malformed[];
  faults?: FaultPlan;
  kill?: KillPlan;
}

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
// Warm environments keep clients whose adaptive rate limiter remembers the time of its last
// call: each scenario starts later than the previous one ended, as real time would.
let nextStart = T0;

export async function openWorld(runtime: LambdaRuntime, seed: number): Promise<World> {
  const sim = await startSim({ start: new Date(nextStart), seed, dateHeader: 'sim' });
  const drain = installDrainWorld(sim, { seed });
  installDynamoProxy(sim);
  const sns = installSns(sim, { seed });
  const eventBridge = installEventBridge(sim, { seed });
  const ssm = installSsm(sim, { seed });
  ssm.addDocument(DOCUMENT, cleanupDocumentParameters, { stepName: 'dockerCleanup' });
  await createTable(sim.dynamo.endpoint, TABLE);
  runtime.attach(sim);
  return { sim, drain, sns, eventBridge, ssm, runtime, malformed: [] };
}

export async function closeWorld(world: World): Promise<void> {
  nextStart = Math.ceil((world.sim.clock.now() + HOUR) / HOUR) * HOUR;
  world.runtime.detach();
  await world.sim.close();
}

/** Runs one scenario in a fresh world, closed whatever happens. */
export async function inWorld<T>(runtime: LambdaRuntime, seed: number, play: (world: World) => Promise<T>): Promise<T> {
  const world = await openWorld(runtime, seed);
  try {
    return await play(world);
  } finally {
    await closeWorld(world);
  }
}

/** Throttling and 5xx on every AWS call, DynamoDB included; duplicated, reordered and lost deliveries on the bus. */
export function applyFaults(world: World, plan: FaultPlan): void {
  world.faults = plan;
  world.sim.faults.set({ throttle: plan.throttle, serverError: plan.serverError });
  world.sim.faults.events({ duplicate: plan.duplicate, maxCopies: plan.maxCopies, reorderWindowMs: plan.reorderWindowMs, lose: plan.lose });
}

export function armKill(world: World, plan: KillPlan): void {
  world.kill = plan;
  world.runtime.armKill(plan);
}

/** The function's EventBridge rules: each delivery is an async invocation. */
export function subscribeRules(world: World, fn: string, patterns: object): void {
  for (const [rule, pattern] of Object.entries(patterns)) {
    if (pattern === undefined) continue;
    world.sim.bus.subscribePattern(`${fn}:${rule}`, pattern, (event) => {
      world.runtime.invoke(fn, event, rule);
    });
  }
}

/**
 * A rate(...) schedule rule: from the next whole period on, one async
 * invocation per period. Schedules invoke the function directly, so bus
 * faults do not apply; the invocation's own faults and retries do.
 */
export function every(world: World, fn: string, periodMs: number, event: (at: number, n: number) => unknown): void {
  const { clock } = world.sim;
  let n = 0;
  const tick = (at: number) =>
    clock.at(at, () => {
      tick(at + periodMs);
      world.runtime.invoke(fn, event(at, n++), 'schedule');
    });
  tick(Math.ceil((clock.now() + 1) / periodMs) * periodMs);
}

/** Puts a malformed event on the bus (or invokes the function with it) and remembers it for the DLQ check. */
export function injectMalformed(world: World, m: Malformed): void {
  world.malformed.push(m);
  if (m.via === 'bus') world.sim.bus.put(m.event as AwsEvent);
  else world.runtime.invoke(m.fn, m.event, 'direct');
}

/**
 * Moves the clock in steps until `done()` holds and nothing is left in
 * flight: no invocation, no retry, no pending delivery.
 */
export async function runUntil(world: World, done: () => boolean, opts: { maxMs: number; stepMs?: number }): Promise<void> {
  const { clock, bus } = world.sim;
  const step = opts.stepMs ?? 10_000;
  const start = clock.now();
  for (;;) {
    await clock.advance(step);
    if (done() && world.runtime.settled() && bus.pending() === 0) return;
    if (clock.now() - start > opts.maxMs) {
      throw new Error(
        `scenario did not settle within ${opts.maxMs / 60_000} simulated minutes (done: ${done()}, runtime settled: ${world.runtime.settled()}, bus pending: ${bus.pending()})`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Invariant helpers

const parse = (line: string): Record<string, unknown> | undefined => {
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
};

/** The invocation logged an ERROR line that carries `message` (in its message or its error). */
export function loggedError(inv: Invocation, message: string): boolean {
  return inv.logs.some((line) => {
    const entry = parse(line);
    return entry?.level === 'ERROR' && JSON.stringify(entry).includes(JSON.stringify(message).slice(1, -1));
  });
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every malformed event that reached its function ended in the DLQ, once per
 * delivery, with the expected error, and each failed attempt logged it.
 */
export function malformedViolations(world: World): string[] {
  const problems: string[] = [];
  const { bus } = world.sim;
  for (const m of world.malformed) {
    const label = `malformed event for ${m.fn} (${m.expect})`;
    const chains = new Set(world.runtime.invocations.filter((i) => i.fn === m.fn && sameJson(i.event, m.event)).map((i) => i.chain));
    if (m.via === 'bus') {
      const lost = bus.lost.filter((l) => l.event === m.event && l.subscriber.startsWith(`${m.fn}:`)).length;
      const delivered = bus.delivered.filter((d) => d.event === m.event && d.subscriber.startsWith(`${m.fn}:`)).length;
      if (delivered === 0 && lost === 0) problems.push(`${label}: the rule never matched it`);
      if (delivered !== chains.size) problems.push(`${label}: ${delivered} deliveries but ${chains.size} invocations`);
    } else if (chains.size === 0) {
      problems.push(`${label}: never invoked`);
    }
    const entries = world.runtime.dlq.filter((d) => d.fn === m.fn && sameJson(d.event, m.event));
    if (entries.length !== chains.size) problems.push(`${label}: ${chains.size} invocations, ${entries.length} in the DLQ`);
    for (const entry of entries) {
      if (!entry.error.message.includes(m.expect)) problems.push(`${label}: in the DLQ with "${entry.error.message}"`);
      for (const attempt of entry.attempts) {
        if (attempt.status === 'failed' && !loggedError(attempt, attempt.error!.message)) {
          problems.push(`${label}: attempt ${attempt.attempt} failed with "${attempt.error!.message}" but logged no ERROR line with it`);
        }
      }
    }
  }
  return problems;
}

/** DLQ entries that are not the malformed events: valid events that failed three times. */
export function validInDlq(world: World): number {
  return world.runtime.dlq.filter((d) => !world.malformed.some((m) => m.fn === d.fn && sameJson(m.event, d.event))).length;
}

/**
 * The scenario's invocations, one line each, for a failure message: when
 * (seconds after `from`), which function and trigger, the attempt, the
 * outcome, where it was killed, and its AWS calls with their errors.
 */
export function timeline(world: World, from: number, keep: (inv: Invocation) => boolean = () => true, max = 60): string {
  const byId = new Map(world.sim.calls.map((c) => [c.requestId, c]));
  const lines = world.runtime.invocations.filter(keep).map((i) => {
    const outcome = i.error ? `${i.status}: ${i.error.message}` : `${i.status}: ${JSON.stringify(i.result)}`;
    const calls = i.requestIds.map((r) => byId.get(r)).map((c) => (c ? `${c.op}${c.error ? `!${c.error.replace(/Exception$/, '')}` : ''}` : '?'));
    return `t+${((i.startedAt - from) / 1000).toFixed(1)}s #${i.id} ${i.fn}:${i.source} attempt ${i.attempt}${i.killedAtCall ? ` KILLED at call ${i.killedAtCall}` : ''} -> ${outcome.slice(0, 160)} [${calls.join(' ')}]`;
  });
  return (lines.length > max ? [...lines.slice(0, max), `... ${lines.length - max} more`] : lines).join('\n    ');
}
