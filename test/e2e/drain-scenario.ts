/**
 * Random drain scenarios: a cluster of 2 to 5 instances behind one ASG with
 * the termination hook, replica services (some behind a load balancer, some
 * that cannot move: minimumHealthyPercent = maximumPercent = 100), maybe a
 * DAEMON service and standalone tasks, and one to three instances terminated
 * at random times. Beyond the faults every scenario has: maybe a DynamoDB
 * outage of up to 10 minutes, lifecycle events lost for good, and stray
 * lifecycle events (garbage tokens, replays of finished actions). The same
 * scenario runs against ecs-caretaker's drain bundle or against the naive
 * drainer of the public samples.
 */
import fc from 'fast-check';
import { drainPatterns } from '../../functions/drain/events.ts';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import type { LifecycleAction } from '../../sim/autoscaling.ts';
import type { AwsEvent } from '../../sim/index.ts';
import { bundledDeployments, PREFIX, type Bundles } from './functions.ts';
import type { KillPlan, LambdaRuntime } from '../../sim/lambda.ts';
import { scheduledEvent } from '../../sim/eventbridge.ts';
import { naiveDeployment } from './naive-drainer.ts';
import {
  applyFaults,
  armKill,
  every,
  faultPlanArbitrary,
  injectMalformed,
  killPlanArbitrary,
  malformedViolations,
  runUntil,
  subscribeRules,
  timeline,
  type FaultPlan,
  type World,
} from './world.ts';

/** Two deployments of the drain function, so that both timeout outcomes and both standalone policies meet the faults. */
export const DRAIN_CONFIGS = {
  a: { clusters: [{ name: 'prod', asgs: ['prod-asg'] }], drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 360, timeoutOutcome: 'CONTINUE' } },
  b: {
    clusters: [{ name: 'prod', asgs: ['prod-asg'] }],
    drain: {
      heartbeatTimeoutSeconds: 240,
      drainTimeoutSeconds: 300,
      timeoutOutcome: 'ABANDON',
      standaloneTasks: { policy: 'stop-after', stopAfterSeconds: 120 },
    },
  },
} satisfies Record<string, CaretakerConfigInput>;
export type Variant = keyof typeof DRAIN_CONFIGS;
export const drainDeploymentName = (variant: Variant): string => `drain-${variant}`;

export const CLUSTER = 'prod';
export const ASG = 'prod-asg';
const MAX_TASKS_PER_INSTANCE = 6;
export const ec2Id = (n: number): string => `i-0${(0xd000 + n).toString(16).padStart(16, '0')}`;

/** What each service is made of; `on` lists the instance of each initial task. */
export interface ServiceSpec {
  on: number[];
  loadBalanced: boolean;
  deployment: readonly [minimumHealthyPercent: number, maximumPercent: number];
}

export type DrainMalformed = 'lifecycle-bad-instance' | 'task-without-arn' | 'instance-bad-version';

/** Every DynamoDB call fails in this window (throttled, or 5xx). */
export interface DynamoOutage {
  atSeconds: number;
  minutes: number;
  kind: 'throttle' | 'server';
}

/**
 * A lifecycle event with no pending action behind it: a garbage token (a
 * console test event) for an instance, or the replay of an earlier event (an
 * EventBridge archive) some seconds after the last termination.
 */
export interface StrayLifecycle {
  kind: 'garbage-token' | 'replay';
  instance: number;
  atSeconds: number;
}

export interface DrainScenario {
  seed: number;
  variant: Variant;
  faults: FaultPlan;
  kill: KillPlan;
  instances: number;
  services: ServiceSpec[];
  daemon: boolean;
  /** Standalone tasks: on which instance, and how long they run (null: until stopped). */
  standalone: Array<{ on: number; runSeconds: number | null }>;
  terminations: Array<{ instance: number; atSeconds: number }>;
  malformed: DrainMalformed[];
  dynamoOutage: DynamoOutage | null;
  /** Instances whose lifecycle event never reaches the drainer, whatever the bus does. */
  lostLifecycle: number[];
  strays: StrayLifecycle[];
}

const deploymentShapes = [
  [100, 200],
  [50, 200],
  [0, 100],
  [100, 100],
] as const;

export const drainScenarioArbitrary: fc.Arbitrary<DrainScenario> = fc.integer({ min: 2, max: 5 }).chain((instances) =>
  fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    variant: fc.constantFrom<Variant>('a', 'b'),
    faults: faultPlanArbitrary,
    kill: killPlanArbitrary(20, 12),
    instances: fc.constant(instances),
    services: fc.array(
      fc.record({
        on: fc.array(fc.nat({ max: instances - 1 }), { minLength: 1, maxLength: 4 }),
        loadBalanced: fc.boolean(),
        // Mostly services that can move; now and then one that cannot.
        deployment: fc.constantFrom(...deploymentShapes, deploymentShapes[0], deploymentShapes[1]),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    daemon: fc.boolean(),
    standalone: fc.array(fc.record({ on: fc.nat({ max: instances - 1 }), runSeconds: fc.option(fc.integer({ min: 20, max: 500 }), { freq: 4 }) }), {
      maxLength: 2,
    }),
    terminations: fc.uniqueArray(fc.record({ instance: fc.nat({ max: instances - 1 }), atSeconds: fc.integer({ min: 5, max: 240 }) }), {
      minLength: 1,
      maxLength: Math.min(3, instances),
      selector: (t) => t.instance,
    }),
    malformed: fc.array(fc.constantFrom<DrainMalformed>('lifecycle-bad-instance', 'task-without-arn', 'instance-bad-version'), { minLength: 1, maxLength: 2 }),
    dynamoOutage: fc.option(
      fc.record({
        atSeconds: fc.integer({ min: 0, max: 240 }),
        minutes: fc.integer({ min: 1, max: 10 }),
        kind: fc.constantFrom<DynamoOutage['kind']>('throttle', 'server'),
      }),
      { freq: 2 },
    ),
    lostLifecycle: fc.uniqueArray(fc.nat({ max: instances - 1 }), { maxLength: 2 }),
    strays: fc.array(
      fc.record({
        kind: fc.constantFrom<StrayLifecycle['kind']>('garbage-token', 'replay'),
        instance: fc.nat({ max: instances - 1 }),
        atSeconds: fc.integer({ min: 0, max: 900 }),
      }),
      { maxLength: 2 },
    ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Observing completions

export interface Completion {
  at: number;
  instanceId: string;
  result: string;
  action: LifecycleAction;
  /** Tasks on the instance that were not STOPPED when Auto Scaling accepted the call, daemon tasks left out. */
  notStopped: string[];
}

/** Non-daemon tasks on the container instance(s) of this EC2 instance that are not STOPPED right now. */
export function unstoppedTasks(world: World, instanceId: string): string[] {
  const daemons = new Set([...world.drain.services.services.values()].filter((s) => s.schedulingStrategy === 'DAEMON').map((s) => `service:${s.name}`));
  const arns = world.sim.ecs
    .containerInstances()
    .filter((ci) => ci.ec2InstanceId === instanceId)
    .map((ci) => ci.arn);
  return world.sim.ecs
    .tasks((t) => t.containerInstanceArn !== undefined && arns.includes(t.containerInstanceArn) && t.lastStatus !== 'STOPPED' && !daemons.has(t.group))
    .map((t) => `${t.group}:${t.lastStatus}`);
}

/**
 * Wraps Auto Scaling's CompleteLifecycleAction so that the ECS state is read
 * at the moment the call is accepted, not reconstructed afterwards.
 */
export function observeCompletions(world: World): Completion[] {
  const completions: Completion[] = [];
  const service = world.sim.service('autoscaling');
  const original = service?.operations.CompleteLifecycleAction;
  if (!service || !original) throw new Error('e2e: the simulator has no Auto Scaling CompleteLifecycleAction');
  service.operations.CompleteLifecycleAction = async (input, ctx) => {
    const pending = world.drain.autoscaling.actions.find(
      (a) => a.status === 'pending' && (input.LifecycleActionToken ? a.token === input.LifecycleActionToken : a.instanceId === input.InstanceId),
    );
    const notStopped = pending ? unstoppedTasks(world, pending.instanceId) : [];
    const output = await original(input, ctx);
    if (pending && pending.status === 'completed')
      completions.push({ at: ctx.now, instanceId: pending.instanceId, result: String(input.LifecycleActionResult), action: pending, notStopped });
    return output;
  };
  return completions;
}

export interface DrainOutcome {
  actions: number;
  /** Actions whose lifecycle event reached the drainer at least once. */
  delivered: number;
  /** Completed while a non-daemon task on the instance was not STOPPED, other than by the configured timeout. */
  early: string[];
  /**
   * Actions that ended without a completion: the hook expired. Every action counts, its event
   * delivered or not: Auto Scaling, not the bus, says which actions are pending.
   */
  expired: string[];
  /** Completed by the configured timeout outcome. */
  timedOut: number;
}

/**
 * The two drain invariants. `timeout` is the drainer's own timeout policy
 * (none for the naive drainer): a completion with its outcome after that long
 * is the configured timeout, not an early completion.
 */
export function drainOutcome(
  world: World,
  completions: Completion[],
  drainer: string,
  timeout?: { seconds: number; outcome: string },
  /** tokens whose deliveries the scenario dropped before the function (lost for good) */
  lostTokens: ReadonlySet<string> = new Set(),
): DrainOutcome {
  const { bus } = world.sim;
  const actions = world.drain.autoscaling.actions;
  const deliveredTokens = new Set(
    bus.delivered
      .filter((d) => d.subscriber === `${drainer}:lifecycle` && d.event['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')
      .map((d) => d.event.detail.LifecycleActionToken as string),
  );
  const outcome: DrainOutcome = { actions: actions.length, delivered: 0, early: [], expired: [], timedOut: 0 };
  for (const c of completions) {
    // The drain's clock starts at the event's time, which EventBridge gives to the second.
    const timedOut = timeout !== undefined && c.result === timeout.outcome && c.at >= c.action.startedAt - 1000 + timeout.seconds * 1000;
    if (timedOut && c.notStopped.length) outcome.timedOut++;
    else if (c.notStopped.length)
      outcome.early.push(
        `${c.instanceId} completed (${c.result}) ${((c.at - c.action.startedAt) / 1000).toFixed(0)} s after the action began with ${c.notStopped.join(', ')}`,
      );
  }
  for (const action of actions) {
    if (deliveredTokens.has(action.token) && !lostTokens.has(action.token)) outcome.delivered++;
    if (action.status !== 'completed' || action.completedBy !== 'api')
      outcome.expired.push(`${action.instanceId}: ${action.status}, ended by ${action.completedBy ?? 'nothing'}`);
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Running one scenario

function malformedEvent(world: World, kind: DrainMalformed, hookName: string, n: number): { event: AwsEvent; expect: string } {
  const { sim } = world;
  const instance = sim.ecs.containerInstances(CLUSTER)[0]!;
  const envelope = (detailType: string, source: string, detail: Record<string, unknown>): AwsEvent =>
    sim.bus.envelope(source, detailType, detail, [], `malformed-${kind}-${n}`);
  switch (kind) {
    case 'lifecycle-bad-instance':
      return {
        event: envelope('EC2 Instance-terminate Lifecycle Action', 'aws.autoscaling', {
          LifecycleActionToken: `token-${n}`,
          AutoScalingGroupName: ASG,
          LifecycleHookName: hookName,
          EC2InstanceId: 'not-an-instance',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        }),
        expect: 'Invalid EC2 Instance-terminate Lifecycle Action event: detail.EC2InstanceId',
      };
    case 'task-without-arn':
      return {
        event: envelope('ECS Task State Change', 'aws.ecs', {
          clusterArn: sim.ecs.clusters.get(CLUSTER)!.arn,
          containerInstanceArn: instance.arn,
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          version: 3,
        }),
        expect: 'Invalid ECS Task State Change event: detail.taskArn',
      };
    case 'instance-bad-version':
      return {
        event: envelope('ECS Container Instance State Change', 'aws.ecs', {
          clusterArn: sim.ecs.clusters.get(CLUSTER)!.arn,
          containerInstanceArn: instance.arn,
          ec2InstanceId: instance.ec2InstanceId,
          status: 'DRAINING',
          version: 'seven',
        }),
        expect: 'Invalid ECS Container Instance State Change event: detail.version',
      };
  }
}

/** Builds the scenario's cluster, services and tasks, and lets them reach RUNNING. */
export async function arrangeCluster(
  world: World,
  s: Pick<DrainScenario, 'instances' | 'services' | 'daemon' | 'standalone'>,
  heartbeatTimeoutSeconds: number,
  hookName: string,
) {
  const { sim, drain } = world;
  sim.ecs.addCluster(CLUSTER);
  const instances = Array.from({ length: s.instances }, (_, i) => sim.ecs.addContainerInstance(CLUSTER, { ec2InstanceId: ec2Id(i) }));
  drain.autoscaling.addGroup(ASG);
  for (const i of instances) drain.autoscaling.addInstance(ASG, i.ec2InstanceId);
  drain.autoscaling.putLifecycleHook(ASG, { name: hookName, heartbeatTimeoutSeconds, defaultResult: 'CONTINUE' });
  sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
  sim.ecs.defineTaskDefinition('api');
  sim.ecs.defineTaskDefinition('agent', { cpu: 64, memory: 128 });
  const load = instances.map(() => 0);
  const place = (i: number): boolean => {
    if (load[i]! >= MAX_TASKS_PER_INSTANCE) return false;
    load[i]!++;
    return true;
  };
  if (s.daemon) {
    drain.services.addService(CLUSTER, { name: 'agent', taskDefinition: 'agent', schedulingStrategy: 'DAEMON' });
    for (const i of instances.keys()) place(i);
  }
  s.services.forEach((spec, k) => {
    const on = new Map<number, number>();
    for (const i of spec.on) if (place(i)) on.set(i, (on.get(i) ?? 0) + 1);
    if (on.size === 0) return;
    drain.services.addService(CLUSTER, {
      name: `svc${k}`,
      taskDefinition: spec.loadBalanced ? 'web' : 'api',
      minimumHealthyPercent: spec.deployment[0],
      maximumPercent: spec.deployment[1],
      on: [...on].map(([i, count]) => ({ instance: instances[i]!.arn, count })),
    });
  });
  for (const task of s.standalone) {
    if (!place(task.on)) continue;
    const family = task.runSeconds === null ? 'batch-forever' : `batch-${task.runSeconds}`;
    if (!sim.ecs.taskDefinition(family)) sim.ecs.defineTaskDefinition(family, task.runSeconds === null ? {} : { runSeconds: task.runSeconds });
    drain.services.runStandalone(instances[task.on]!.arn, family);
  }
  await sim.clock.advance(10_000);
  return instances;
}

export interface DrainRun {
  /** Invariant breaches, then (when there are any) the scenario's timeline. */
  outcome: DrainOutcome;
  violations: string[];
  invocations: number;
  killed: boolean;
  lostLifecycleEvents: number;
  /** Container instances left DRAINING while their EC2 instance is still InService in its group. */
  leftDraining: string[];
  strays: number;
  /** Minutes of DynamoDB outage in the scenario. */
  outageMinutes: number;
}

/** Both drain bundles (one per DRAIN_CONFIGS variant) and the naive drainer, as the scenarios invoke them. */
export function deployDrainers(runtime: LambdaRuntime, bundles: Bundles): void {
  for (const [variant, config] of Object.entries(DRAIN_CONFIGS)) {
    for (const deployment of bundledDeployments(config, bundles, { only: ['drain'], suffix: `-${variant}` })) runtime.deploy(deployment);
  }
  runtime.deploy(naiveDeployment(['prod']));
}

/** What a run of drain scenarios adds up to, for one drainer: the E2E test and the bench print it. */
export interface DrainTotals {
  scenarios: number;
  /** lifecycle actions, their event delivered or not */
  actions: number;
  early: number;
  expired: number;
  timedOut: number;
  lostEvents: number;
  kills: number;
  leftDraining: number;
  strays: number;
  outageMinutes: number;
  /** scenarios with at least one early completion, expired hook or instance left DRAINING */
  breached: number;
}

export const emptyDrainTotals = (): DrainTotals => ({
  scenarios: 0,
  actions: 0,
  early: 0,
  expired: 0,
  timedOut: 0,
  lostEvents: 0,
  kills: 0,
  leftDraining: 0,
  strays: 0,
  outageMinutes: 0,
  breached: 0,
});

export function addDrainRun(totals: DrainTotals, run: DrainRun): void {
  totals.scenarios++;
  totals.actions += run.outcome.actions;
  totals.leftDraining += run.leftDraining.length;
  totals.strays += run.strays;
  totals.outageMinutes += run.outageMinutes;
  totals.early += run.outcome.early.length;
  totals.expired += run.outcome.expired.length;
  totals.timedOut += run.outcome.timedOut;
  totals.lostEvents += run.lostLifecycleEvents;
  totals.kills += run.killed ? 1 : 0;
  if (run.outcome.early.length + run.outcome.expired.length + run.leftDraining.length > 0) totals.breached++;
}

/**
 * Runs one scenario with `drainer` ('ours': the bundle of the scenario's
 * variant, with its rules and reconcile tick; 'naive': the baseline, on the
 * lifecycle rule only) and returns what the invariants found.
 */
export async function runDrainScenario(world: World, s: DrainScenario, drainer: 'ours' | 'naive'): Promise<DrainRun> {
  const input = DRAIN_CONFIGS[s.variant];
  const config = parseConfig(input);
  const fn = drainer === 'ours' ? drainDeploymentName(s.variant) : 'naive';
  const patterns = drainPatterns(config);
  const { sim } = world;

  await arrangeCluster(world, s, config.drain.heartbeatTimeoutSeconds, config.drain.hookName);
  const completions = observeCompletions(world);
  const lostTokens = subscribeLifecycle(world, fn, patterns.lifecycle, new Set(s.lostLifecycle.map(ec2Id)));
  if (drainer === 'ours') {
    subscribeRules(world, fn, { ...patterns, lifecycle: undefined });
    every(world, fn, 60_000, (at, n) => scheduledEvent(world.sim, `${PREFIX}-drain-reconcile`, at, `tick-${n}`));
  }
  applyFaults(world, s.faults);
  armKill(world, s.kill);

  const start = sim.clock.now();
  if (s.dynamoOutage) {
    const from = start + s.dynamoOutage.atSeconds * 1000;
    sim.faults.outage({ service: 'dynamodb', from, to: from + s.dynamoOutage.minutes * 60_000, kind: s.dynamoOutage.kind });
  }
  for (const t of s.terminations) sim.clock.at(start + t.atSeconds * 1000, () => void world.drain.autoscaling.terminate(ASG, ec2Id(t.instance)));
  for (const [n, stray] of s.strays.entries())
    sim.clock.at(start + stray.atSeconds * 1000, () => sim.bus.put(strayEvent(world, stray, config.drain.hookName, n)));
  if (drainer === 'ours') {
    for (const [n, kind] of s.malformed.entries())
      sim.clock.at(start + 30_000 + n * 7_000, () => injectMalformed(world, { fn, via: 'bus', ...malformedEvent(world, kind, config.drain.hookName, n) }));
  }
  const lastTermination = start + Math.max(...s.terminations.map((t) => t.atSeconds), ...s.strays.map((t) => t.atSeconds)) * 1000;
  const actionsOver = () => sim.clock.now() > lastTermination && world.drain.autoscaling.actions.every((a) => a.status !== 'pending');
  await runUntil(world, actionsOver, { maxMs: 3 * 3600_000 });

  const timeout = drainer === 'ours' ? { seconds: config.drain.drainTimeoutSeconds, outcome: config.drain.timeoutOutcome } : undefined;
  const outcome = drainOutcome(world, completions, fn, timeout, lostTokens);
  const leftDraining = drainingInService(world);
  const violations = [
    ...outcome.early.map((e) => `early completion: ${e}`),
    ...outcome.expired.map((e) => `hook expired: ${e}`),
    ...leftDraining.map((e) => `left DRAINING: ${e}`),
  ];
  if (drainer === 'ours') violations.push(...malformedViolations(world));
  if (violations.length) violations.push(`timeline:\n    ${timeline(world, start)}`);
  const lifecycleEvents = sim.bus.emitted.filter(
    (e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action' && e.source === 'aws.autoscaling' && !e.id.startsWith('malformed'),
  );
  const lost = lifecycleEvents.filter(
    (e) => lostTokens.has(e.detail.LifecycleActionToken as string) || !sim.bus.delivered.some((d) => d.event === e && d.subscriber === `${fn}:lifecycle`),
  ).length;
  return {
    outcome,
    violations,
    invocations: world.runtime.invocations.length,
    killed: world.runtime.killed !== undefined,
    lostLifecycleEvents: lost,
    leftDraining,
    strays: s.strays.length,
    outageMinutes: s.dynamoOutage?.minutes ?? 0,
  };
}

/**
 * The lifecycle rule, with the events of `lostInstances` dropped before the
 * function (lost for good, whatever the bus does). Returns the tokens dropped.
 */
function subscribeLifecycle(world: World, fn: string, pattern: object | undefined, lostInstances: ReadonlySet<string>): Set<string> {
  if (!pattern) throw new Error('e2e: the drain function has no lifecycle rule');
  const lost = new Set<string>();
  world.sim.bus.subscribePattern(`${fn}:lifecycle`, pattern, (event) => {
    if (event.source === 'aws.autoscaling' && lostInstances.has(String(event.detail.EC2InstanceId)) && !event.id.startsWith('stray-')) {
      lost.add(String(event.detail.LifecycleActionToken));
      return;
    }
    world.runtime.invoke(fn, event, 'lifecycle');
  });
  return lost;
}

/** A garbage token for the instance, or a replay of its last lifecycle event (a garbage token if it had none yet). */
function strayEvent(world: World, stray: StrayLifecycle, hookName: string, n: number): AwsEvent {
  const { sim } = world;
  const instanceId = ec2Id(stray.instance);
  const earlier = sim.bus.emitted.filter(
    (e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action' && e.detail.EC2InstanceId === instanceId && !e.id.startsWith('stray-'),
  );
  const original = stray.kind === 'replay' ? earlier.at(-1) : undefined;
  if (original) return { ...structuredClone(original), id: `stray-replay-${n}` };
  const detail = {
    LifecycleActionToken: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    AutoScalingGroupName: ASG,
    LifecycleHookName: hookName,
    EC2InstanceId: instanceId,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
  };
  const resources = [world.drain.autoscaling.groups.get(ASG)!.arn];
  return sim.bus.envelope('aws.autoscaling', 'EC2 Instance-terminate Lifecycle Action', detail, resources, `stray-garbage-${n}`);
}

/** Container instances DRAINING whose EC2 instance Auto Scaling still has InService: drained for an action that is not there. */
export function drainingInService(world: World): string[] {
  return world.sim.ecs
    .containerInstances(CLUSTER)
    .filter((ci) => ci.status === 'DRAINING' && world.drain.autoscaling.lifecycleState(ASG, ci.ec2InstanceId) === 'InService')
    .map((ci) => `${ci.ec2InstanceId} (${ci.arn})`);
}
