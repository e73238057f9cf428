/**
 * The drain logic wired to the simulator and dynalite the way the handler
 * wires it, with the rules of infra/functions/drain.ts as bus subscriptions
 * and the reconcile schedule as a timer on the simulated clock.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeprecatedAdaptiveRetryStrategy } from '@smithy/core/retry';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import type { DrainDeps, StepResult, TickResult } from '../../functions/drain/context.ts';
import { handleDrainInput } from '../../functions/drain/dispatch.ts';
import { drainPatterns } from '../../functions/drain/events.ts';
import { parseDrainInput } from '../../functions/drain/input.ts';
import { createDrainRecords, type DrainRecord, type DrainRecords } from '../../functions/drain/records.ts';
import type { LifecycleAction } from '../../sim/autoscaling.ts';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { installDynamoProxy } from '../../sim/dynamo-proxy.ts';
import { createTable, startSim, type AwsEvent, type Sim } from '../../sim/index.ts';

export const T0 = new Date('2026-06-01T09:00:00Z');
const credentials = { accessKeyId: 'sim', secretAccessKey: 'sim' };

export interface HarnessOptions {
  clusters?: CaretakerConfigInput['clusters'];
  drain?: CaretakerConfigInput['drain'];
  seed?: number;
  /** Subscribe the rules and the reconcile schedule (default true). */
  wire?: boolean;
  /** DynamoDB through the simulator's dispatcher (sim/dynamo-proxy.ts), so that its faults and outage windows reach the table. */
  dynamoViaSim?: boolean;
}

export interface Invocation {
  trigger: string;
  at: number;
  result?: StepResult | TickResult;
  error?: unknown;
}

export interface Harness {
  sim: Sim;
  world: DrainWorld;
  records: DrainRecords;
  config: ReturnType<typeof parseConfig>;
  /** Every addMetric call, by name. */
  metric(name: string): number[];
  /** DynamoDB commands sent by the drain logic, by command name. */
  ddbCalls: Record<string, number>;
  invocations: Invocation[];
  /** One invocation of the drain logic, as Lambda would run it for `event`. */
  invoke(event: unknown, trigger?: string): Promise<StepResult | TickResult>;
  /** The reconcile tick, as its schedule delivers it. */
  tick(): Promise<TickResult>;
  /** Drops the deliveries of a rule for which `drop(event)` holds (a lost event). */
  dropWhen(drop: (event: AwsEvent) => boolean): void;
  openRecords(): Promise<DrainRecord[]>;
  close(): Promise<void>;
}

let tables = 0;

/**
 * Adaptive retry as the handler configures it, with millisecond backoff so a
 * throttled scenario runs in test time; the retry decisions are the SDK's own.
 */
const retryStrategy = () => new DeprecatedAdaptiveRetryStrategy(async () => 5, { delayDecider: (_base: number, attempts: number) => attempts });

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const sim = await startSim({ start: T0, seed: opts.seed ?? 11 });
  const world = installDrainWorld(sim, { seed: opts.seed ?? 11 });
  const config = parseConfig({ clusters: opts.clusters ?? [{ name: 'prod', asgs: ['prod-asg'] }], drain: opts.drain ?? {} });
  const tableName = `drain-${process.pid}-${++tables}`;
  await createTable(sim.dynamo.endpoint, tableName);

  const ecs = new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials, retryStrategy: retryStrategy() });
  const asg = new AutoScalingClient({ endpoint: sim.endpoint, region: sim.region, credentials, retryStrategy: retryStrategy() });
  if (opts.dynamoViaSim) installDynamoProxy(sim);
  const ddb = opts.dynamoViaSim
    ? new DynamoDBClient({ endpoint: sim.endpoint, region: sim.region, credentials, retryStrategy: retryStrategy() })
    : new DynamoDBClient({ endpoint: sim.dynamo.endpoint, region: sim.region, credentials, maxAttempts: 5 });
  const records = createDrainRecords(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName);

  const ddbCalls: Record<string, number> = {};
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      ddbCalls[context.commandName!] = (ddbCalls[context.commandName!] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countDynamoCalls' },
  );
  // Metrics are recorded, not flushed: the tests read them by name.
  const metrics = new Metrics({ namespace: 'test' });
  const metricCalls: Array<[string, number]> = [];
  metrics.addMetric = ((name: string, _unit: unknown, value: number) => {
    metricCalls.push([name, value]);
  }) as never;
  const logger = new Logger({ logLevel: 'SILENT' });
  const scope = { clusters: config.clusters.map((c) => c.name), asgs: config.clusters.flatMap((c) => c.asgs), hookName: config.drain.hookName };
  let owners = 0;
  const deps = (): DrainDeps => ({
    ecs,
    asg,
    records,
    logger,
    metrics,
    now: () => sim.clock.now(),
    owner: `invocation-${++owners}`,
    remainingMs: () => 50_000,
    settings: { ...config.drain, clusters: scope.clusters, asgs: scope.asgs },
  });

  const invocations: Invocation[] = [];
  const invoke = async (event: unknown, trigger = 'direct') => {
    const record: Invocation = { trigger, at: sim.clock.now() };
    invocations.push(record);
    try {
      record.result = await handleDrainInput(deps(), parseDrainInput(event, scope));
      return record.result;
    } catch (error) {
      record.error = error;
      throw error;
    }
  };
  const tickEvent = () => ({
    version: '0',
    id: `tick-${sim.clock.now()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: sim.account,
    time: new Date(sim.clock.now()).toISOString(),
    region: sim.region,
    resources: [`arn:aws:events:${sim.region}:${sim.account}:rule/cc-test-drain-reconcile`],
    detail: {},
  });

  const drops: Array<(event: AwsEvent) => boolean> = [];
  if (opts.wire !== false) {
    const patterns = drainPatterns(config);
    const rules = Object.entries(patterns).filter(([, pattern]) => pattern !== undefined);
    for (const [name, pattern] of rules) {
      sim.bus.subscribePattern(`drain-${name}`, pattern, async (event) => {
        if (drops.some((drop) => drop(event))) return 'dropped';
        return invoke(event, name);
      });
    }
    // rate(1 minute), from the first whole minute, like an EventBridge schedule.
    const every = 60_000;
    const scheduleTick = (at: number) =>
      sim.clock.at(at, async () => {
        scheduleTick(at + every);
        await invoke(tickEvent(), 'tick');
      });
    scheduleTick(Math.ceil((sim.clock.now() + 1) / every) * every);
  }

  return {
    sim,
    world,
    records,
    config,
    metric: (name) => metricCalls.filter(([n]) => n === name).map(([, v]) => v),
    ddbCalls,
    invocations,
    invoke,
    tick: () => invoke(tickEvent(), 'tick') as Promise<TickResult>,
    dropWhen: (drop) => drops.push(drop),
    openRecords: async () => {
      const out: DrainRecord[] = [];
      for await (const r of records.listOpen()) out.push(r);
      return out;
    },
    close: async () => {
      ecs.destroy();
      asg.destroy();
      ddb.destroy();
      await sim.close();
    },
  };
}

/** Advances simulated time in steps, stopping early once `until` holds. */
export async function runUntil(h: Harness, until: () => boolean, opts: { maxMs: number; stepMs?: number }): Promise<void> {
  const step = opts.stepMs ?? 1000;
  for (let t = 0; t < opts.maxMs && !until(); t += step) await h.sim.clock.advance(step);
}

/** ECS calls a drain made, by operation. */
export const callsOf = (h: Harness, service: 'ecs' | 'autoscaling', op: string) => h.sim.calls.filter((c) => c.service === service && c.op === op);

/** A standard world: cluster `prod` with instance i-0drain (to drain) and i-0spare (room for replacements), hook on prod-asg. */
export function standardWorld(
  h: Harness,
  opts: { heartbeatTimeoutSeconds?: number; spareCpu?: number; spareMemory?: number; drainCpu?: number; drainMemory?: number } = {},
) {
  const { sim, world } = h;
  if (!sim.ecs.clusters.has('prod')) sim.ecs.addCluster('prod');
  const drained = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0d7a1e', cpu: opts.drainCpu, memory: opts.drainMemory });
  const spare = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0a5a7e', cpu: opts.spareCpu, memory: opts.spareMemory });
  world.autoscaling.addGroup('prod-asg');
  world.autoscaling.putLifecycleHook('prod-asg', {
    name: h.config.drain.hookName,
    heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds ?? h.config.drain.heartbeatTimeoutSeconds,
    defaultResult: 'CONTINUE',
  });
  return { drained, spare };
}

/** The EC2 instance id of the n-th instance of scaleInFleet. */
const ec2Id = (n: number): string => `i-0${(0xa000 + n).toString(16).padStart(16, '0')}`;

/**
 * `count` instances in prod-asg, each with two tasks of a replica service (and a standalone batch
 * task that runs `batchSeconds`, if given), and two spare instances outside the group with room for
 * the service's tasks.
 */
export function scaleInFleet(h: Harness, count: number, batchSeconds?: number | ((n: number) => number)) {
  const { sim, world } = h;
  sim.ecs.addCluster('prod');
  world.autoscaling.addGroup('prod-asg');
  world.autoscaling.putLifecycleHook('prod-asg', {
    name: h.config.drain.hookName,
    heartbeatTimeoutSeconds: h.config.drain.heartbeatTimeoutSeconds,
    defaultResult: 'CONTINUE',
  });
  const instances = Array.from({ length: count }, (_, n) => {
    const ci = sim.ecs.addContainerInstance('prod', { ec2InstanceId: ec2Id(n) });
    world.autoscaling.addInstance('prod-asg', ec2Id(n));
    return ci;
  });
  for (let n = 0; n < 2; n++) sim.ecs.addContainerInstance('prod', { ec2InstanceId: `i-0spare${n}`, cpu: 16384, memory: 32768 });
  sim.ecs.defineTaskDefinition('api');
  world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: instances.map((ci) => ({ instance: ci.arn, count: 2 })) });
  if (batchSeconds !== undefined) {
    const seconds = typeof batchSeconds === 'number' ? () => batchSeconds : batchSeconds;
    for (const [n, ci] of instances.entries()) {
      const family = `batch-${seconds(n)}`;
      if (!sim.ecs.taskDefinition(family)) sim.ecs.defineTaskDefinition(family, { runSeconds: seconds(n) });
      world.services.runStandalone(ci.arn, family);
    }
  }
  return instances;
}

/** Tasks of the container instance that were not STOPPED when the action was completed. */
export function runningAtCompletion(h: Harness, containerInstanceArn: string, action: LifecycleAction): number {
  return h.sim.ecs.tasks({ containerInstance: containerInstanceArn }).filter((t) => (t.stoppedAt ?? Number.POSITIVE_INFINITY) > action.completedAt!).length;
}

/** When the last task of the container instance reached STOPPED (Infinity while one has not). */
export const lastStoppedAt = (h: Harness, containerInstanceArn: string): number =>
  Math.max(...h.sim.ecs.tasks({ containerInstance: containerInstanceArn }).map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY));
