/**
 * drain: ECS and Auto Scaling calls per drain, and how long after the last
 * task reached STOPPED the lifecycle action was completed, for instances with
 * 10, 100 and 500 service tasks. The real drain logic and SDK clients run
 * against the simulator (every call is in its log) and dynalite.
 */
import type { StepResult, TickResult } from '../functions/drain/context.ts';
import { lastStoppedAt, runningAtCompletion, runUntil, scaleInFleet, standardWorld, startHarness } from '../test/drain/harness.ts';
import { drainPatterns } from '../functions/drain/events.ts';
import { countBy } from '../functions/shared/count.ts';
import { parseConfig, type CaretakerConfigInput } from '../functions/shared/config.ts';
import { scheduledEvent } from '../sim/eventbridge.ts';
import { ECS_RATE_LIMITS, ecsBucketOf, sharedBucket } from '../sim/index.ts';
import { LambdaRuntime } from '../sim/lambda.ts';
import { drainOutcome, observeCompletions } from '../test/e2e/drain-scenario.ts';
import { bundledDeployments, buildOnce, PREFIX, sourceDeployments } from '../test/e2e/functions.ts';
import { every, inWorld, runUntil as runWorldUntil, subscribeRules } from '../test/e2e/world.ts';

interface Row {
  label: string;
  tasks: number;
  ecsAsgCalls: number;
  byOp: Record<string, number>;
  checks: number;
  perCheck: number;
  ddb: number;
  delaySeconds: number;
  completedBy: string;
  invocations: number;
}

async function measure(label: string, tasks: number, opts: { loseEcsEvents?: boolean } = {}): Promise<Row> {
  const h = await startHarness({ seed: 21 });
  try {
    const big = { drainCpu: 8192, drainMemory: 16384, spareCpu: 8192, spareMemory: 16384 };
    const { drained } = standardWorld(h, big);
    h.sim.ecs.defineTaskDefinition('tiny', { cpu: 8, memory: 16 });
    h.world.services.addService('prod', { name: 'tiny', taskDefinition: 'tiny', on: [{ instance: drained.arn, count: tasks }] });
    if (opts.loseEcsEvents) h.dropWhen((e) => e.source === 'aws.ecs');
    await h.sim.clock.advance(10_000);
    const callsBefore = h.sim.calls.length;
    for (const k of Object.keys(h.ddbCalls)) delete h.ddbCalls[k];
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    for (let t = 0; t < 30 * 60 && action!.status === 'pending'; t++) await h.sim.clock.advance(1_000);
    if (action!.status !== 'completed' || action!.completedBy !== 'api')
      throw new Error(`bench ${label}: the drain did not complete (${action!.status}, ${action!.completedBy})`);

    const calls = h.sim.calls.slice(callsBefore).filter((c) => c.service === 'ecs' || c.service === 'autoscaling');
    const byOp = countBy(calls.map((c) => c.op));
    // A done check starts with the first page of ListTasks for desired status RUNNING.
    const checks = calls.filter((c) => c.op === 'ListTasks' && c.input.desiredStatus === 'RUNNING' && !c.input.nextToken).length;
    const checkOps = new Set(['ListTasks', 'DescribeTasks', 'DescribeContainerInstances', 'ListServices']);
    const lastStopped = Math.max(...h.sim.ecs.tasks({ containerInstance: drained.arn }).map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY));
    const completing = h.invocations.find((i) => {
      const r = i.result as (StepResult & TickResult) | undefined;
      return r?.outcome === 'drained' || r?.results?.some((x) => x.outcome === 'drained');
    });
    return {
      label,
      tasks,
      ecsAsgCalls: calls.length,
      byOp,
      checks,
      perCheck: calls.filter((c) => checkOps.has(c.op)).length / Math.max(1, checks),
      ddb: Object.values(h.ddbCalls).reduce((a, b) => a + b, 0),
      delaySeconds: (action!.completedAt! - lastStopped) / 1000,
      completedBy: completing?.trigger ?? 'unknown',
      invocations: h.invocations.length,
    };
  } finally {
    await h.close();
  }
}

export async function benchDrain(): Promise<string> {
  const rows: Row[] = [];
  for (const n of [10, 100, 500]) rows.push(await measure(`${n} tasks`, n));
  rows.push(await measure('100 tasks, every ECS event lost', 100, { loseEcsEvents: true }));

  const ops = [
    'DescribeCapacityProviders',
    'ListContainerInstances',
    'DescribeContainerInstances',
    'UpdateContainerInstancesState',
    'ListTasks',
    'DescribeTasks',
    'ListServices',
    'DescribeServices',
    'CompleteLifecycleAction',
  ];
  const lines = [
    'One instance of a cluster drained by its termination lifecycle hook; its service tasks are replaced on a second instance.',
    "Calls are counted in the simulator's log (retries included; no faults here). The first done check of a drain lists the tasks desired RUNNING",
    'and STOPPED (pages of 100) and describes them all (batches of 100), with DescribeContainerInstances and ListServices (DAEMON). A later check lists',
    'the tasks desired RUNNING and describes only those that may have changed (new, or blocking last time and no longer desired RUNNING); it lists',
    'desired STOPPED only to confirm a completion. Here every task moves at once, so the completing check describes them all again (to see',
    'them STOPPED): two checks cost what they did before. Checks in between cost ⌈N/100⌉ + 3 at most (test/drain/done-cost.test.ts).',
    '',
    '| scenario | ECS + ASG calls per drain | done checks | calls per done check | ⌈N/100⌉ | DynamoDB calls | last STOPPED → Complete (sim s) | completed by | invocations |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.ecsAsgCalls} | ${r.checks} | ${r.perCheck.toFixed(1)} | ${Math.ceil(r.tasks / 100)} | ${r.ddb} | ${r.delaySeconds.toFixed(0)} | ${r.completedBy === 'tick' ? 'reconcile tick' : `${r.completedBy} event`} | ${r.invocations} |`,
    ),
    '',
    `| scenario | ${ops.join(' | ')} |`,
    `|---|${ops.map(() => '---:').join('|')}|`,
    ...rows.map((r) => `| ${r.label} | ${ops.map((op) => r.byOp[op] ?? 0).join(' | ')} |`),
    '',
    'The completion delay is one EventBridge delivery of the last STOPPED event (the simulator delivers after 1 s): the function never sleeps',
    'and never polls, so no Lambda time is spent idle. When every ECS event is lost, the reconcile tick (every minute) completes the action instead.',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Auto Scaling first (functions/drain/reconcile.ts): a table that is down, events that never come.

interface ReconcileRow {
  label: string;
  drains: number;
  expired: number;
  early: number;
  adopted: number;
  withoutTable: number;
  heartbeatsPerDrain: number;
  asgCallsPerDrain: number;
  p50: number;
  p99: number;
  max: number;
  /** last task STOPPED → Complete, s */
  delayP50: number;
  delayMax: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measureReconcile(label: string, drains: number, fault: 'dynamo-outage' | 'events-lost'): Promise<ReconcileRow> {
  const MINUTE = 60_000;
  const h = await startHarness({ seed: 23, dynamoViaSim: fault === 'dynamo-outage', drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
  try {
    // A standalone batch task of 1 to 15 minutes on each instance: many drains outlast the outage
    // and the 300 s HeartbeatTimeout, so only heartbeats keep them alive.
    const instances = scaleInFleet(h, drains, (n) => 60 * (1 + (n % 15)));
    if (fault === 'events-lost') h.dropWhen((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action');
    await h.sim.clock.advance(10_000);
    const start = h.sim.clock.now();
    if (fault === 'dynamo-outage') h.sim.faults.outage({ service: 'dynamodb', from: start, to: start + 10 * MINUTE });
    const callsBefore = h.sim.calls.length;
    const actions = instances.map((ci) => h.world.autoscaling.terminate('prod-asg', ci.ec2InstanceId)[0]!);
    await runUntil(h, () => actions.every((a) => a.status !== 'pending'), { maxMs: 90 * MINUTE, stepMs: 5_000 });

    const asgCalls = h.sim.calls.slice(callsBefore).filter((c) => c.service === 'autoscaling');
    const durations = actions.filter((a) => a.completedBy === 'api').map((a) => (a.completedAt! - a.startedAt) / 1000);
    durations.sort((a, b) => a - b);
    const delays = actions.map((a, n) => (a.completedAt! - lastStoppedAt(h, instances[n]!.arn)) / 1000).sort((a, b) => a - b);
    return {
      label,
      drains,
      expired: actions.filter((a) => a.completedBy !== 'api').length,
      early: actions.filter((a, n) => a.completedBy === 'api' && runningAtCompletion(h, instances[n]!.arn, a) > 0).length,
      adopted: h.metric('DrainAdopted').length,
      withoutTable: h.metric('DrainCompletedWithoutTable').length,
      heartbeatsPerDrain: actions.reduce((sum, a) => sum + a.heartbeats, 0) / drains,
      asgCallsPerDrain: asgCalls.length / drains,
      p50: percentile(durations, 50),
      p99: percentile(durations, 99),
      max: durations.at(-1) ?? Number.NaN,
      delayP50: percentile(delays, 50),
      delayMax: delays.at(-1) ?? Number.NaN,
    };
  } finally {
    await h.close();
  }
}

/** DynamoDB down for 10 minutes during 50 drains, and 50 drains whose every lifecycle event is lost. */
export async function benchDrainReconcile(): Promise<string> {
  const rows = [
    await measureReconcile('DynamoDB unavailable (every call throttled) for the first 10 minutes of 50 drains', 50, 'dynamo-outage'),
    await measureReconcile('every lifecycle event of 50 drains lost on the bus', 50, 'events-lost'),
  ];
  return [
    '50 instances scaled in at once, each with two service tasks and a standalone batch task of 1 to 15 minutes (HeartbeatTimeout 300 s,',
    'reconcile tick every minute). Times run from the start of each lifecycle action to its CompleteLifecycleAction, in simulated seconds;',
    'the batch task sets the floor. "Expired" is an action ended by the hook\'s timeout instead of a completion; "early" one completed',
    'while a task of its instance was not STOPPED. Auto Scaling calls include the heartbeats by instance id and DescribeAutoScalingGroups.',
    '',
    '| scenario | drains | hooks expired | completed early | adopted by the tick | completed without the table | heartbeats per drain | Auto Scaling calls per drain | start → Complete p50 (s) | p99 (s) | max (s) | last STOPPED → Complete p50 (s) | max (s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.drains} | ${r.expired} | ${r.early} | ${r.adopted} | ${r.withoutTable} | ${r.heartbeatsPerDrain.toFixed(1)} | ${r.asgCallsPerDrain.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.max.toFixed(0)} | ${r.delayP50.toFixed(0)} | ${r.delayMax.toFixed(0)} |`,
    ),
  ].join('\n');
}

// Mass scale-in: hundreds of instances terminated at once, ECS throttled at its documented rates

export interface MassScaleIn {
  instances: number;
  tasksPerInstance: number;
  /** Auto Scaling's shared bucket (AWS publishes no numbers): burst and refill per second. */
  asgBucket: [capacity: number, refillPerSecond: number];
  /**
   * 'bundle' (default): each cold start evaluates the built bundle, as Lambda does. 'source': each
   * evaluates the handler module from source in this process, the same code without the bundle's
   * load time, so that hundreds of concurrent cold starts stay affordable.
   */
  code?: 'bundle' | 'source';
}

export interface MassScaleInResult {
  actions: number;
  expired: number;
  early: number;
  completed: number;
  ecsAsgCalls: number;
  throttled: number;
  /** Peak admitted and attempted calls in one second, by ECS category, against the documented bucket. */
  peaks: Array<{ category: string; capacity: number; refill: number; admitted: number; attempted: number }>;
  asgPeak: { admitted: number; attempted: number };
  /** Seconds from the last task of an instance reaching STOPPED to its CompleteLifecycleAction. */
  delays: number[];
  invocations: number;
  timedOutInvocations: number;
  ticks: number;
  ticksDeferring: number;
  maxDeferred: number;
  /** Records left for a later tick, summed over the ticks. */
  deferredTotal: number;
  /** Actions completed by a reconcile tick rather than by an invocation for an event. */
  completedByTick: number;
  /** Lifecycle-event invocations whose first step failed (throttled past the SDK's retries) and left the drain to the tick. */
  firstStepsFailed: number;
  /** Invocations that threw (Lambda retries them). */
  failedInvocations: number;
  /** What went wrong, action by action, for the report: an expiry or early completion is a bug to chase. */
  breaches: string[];
  simMinutes: number;
  wallSeconds: number;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN);

/**
 * The drain bundle on the Lambda runtime (sim time: the SDK's backoff costs
 * simulated seconds, a 60 s timeout kills), its rules and reconcile tick
 * wired as deployed, against the simulator with ECS throttled at the rates of
 * the ECS API Reference and Auto Scaling at `asgBucket`. Every instance runs
 * `tasksPerInstance` tasks of replica services that can move; all the
 * instances are terminated in the same second.
 */
export async function measureMassScaleIn(opts: MassScaleIn, seed = 500): Promise<MassScaleInResult> {
  const started = performance.now();
  const maps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  const input = { clusters: [{ name: 'prod', asgs: ['prod-asg'] }], drain: { heartbeatTimeoutSeconds: 300 } } satisfies CaretakerConfigInput;
  const config = parseConfig(input);
  const bundles = opts.code === 'source' ? undefined : await buildOnce();
  // Hundreds of invocations run at once here: the runtime's hang detector must wait longer than its default.
  const runtime = await LambdaRuntime.start({ busyLimitMs: 15 * 60_000 });
  try {
    const deployments = bundles ? bundledDeployments(input, bundles, { only: ['drain'] }) : sourceDeployments(input, { only: ['drain'] });
    for (const deployment of deployments) runtime.deploy(deployment);
    return await inWorld(runtime, seed, async (world) => {
      const { sim } = world;
      sim.ecs.addCluster('prod');
      world.drain.autoscaling.addGroup('prod-asg');
      world.drain.autoscaling.putLifecycleHook('prod-asg', { name: config.drain.hookName, heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
      sim.ecs.defineTaskDefinition('tiny', { cpu: 8, memory: 16 });
      const drained = Array.from({ length: opts.instances }, (_, n) =>
        sim.ecs.addContainerInstance('prod', { ec2InstanceId: `i-0${(0xa000 + n).toString(16).padStart(16, '0')}`, cpu: 1024, memory: 2048 }),
      );
      // Room for every replacement on instances that stay.
      const spares = Math.ceil((opts.instances * opts.tasksPerInstance) / 200) + 1;
      for (let n = 0; n < spares; n++)
        sim.ecs.addContainerInstance('prod', { ec2InstanceId: `i-0${(0xf000 + n).toString(16).padStart(16, '0')}`, cpu: 4096, memory: 8192 });
      for (let s = 0; s < opts.tasksPerInstance; s++) {
        world.drain.services.addService('prod', {
          name: `svc-${s}`,
          taskDefinition: 'tiny',
          minimumHealthyPercent: 100,
          maximumPercent: 200,
          on: drained.map((i) => ({ instance: i.arn, count: 1 })),
        });
      }
      await sim.clock.advance(10_000);

      const completions = observeCompletions(world);
      subscribeRules(world, 'drain', drainPatterns(config));
      every(world, 'drain', 60_000, (at, n) => scheduledEvent(sim, `${PREFIX}-drain-reconcile`, at, `tick-${n}`));
      sim.throttle.limit('ecs', ECS_RATE_LIMITS);
      sim.throttle.limit('autoscaling', sharedBucket(...opts.asgBucket));
      const from = sim.calls.length;
      const start = sim.clock.now();
      for (const instance of drained) world.drain.autoscaling.terminate('prod-asg', instance.ec2InstanceId);
      let polls = 0;
      const over = () => {
        if (process.env.BENCH_PROGRESS && ++polls % 6 === 0) {
          const pending = world.drain.autoscaling.actions.filter((a) => a.status === 'pending').length;
          process.stderr.write(
            `  mass scale-in: ${((sim.clock.now() - start) / 60_000).toFixed(1)} sim min, ${pending} pending, ${runtime.invocations.length} invocations, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
          );
        }
        return world.drain.autoscaling.actions.every((a) => a.status !== 'pending');
      };
      await runWorldUntil(world, over, { maxMs: 3 * 3600_000, stepMs: 10_000 });

      const outcome = drainOutcome(world, completions, 'drain', { seconds: config.drain.drainTimeoutSeconds, outcome: config.drain.timeoutOutcome });
      const calls = sim.calls.slice(from).filter((c) => c.service === 'ecs' || c.service === 'autoscaling');
      const perSecond = (filter: (c: (typeof calls)[number]) => boolean) => {
        const counts = new Map<number, number>();
        for (const c of calls.filter(filter)) counts.set(Math.floor(c.at / 1000), (counts.get(Math.floor(c.at / 1000)) ?? 0) + 1);
        return Math.max(0, ...counts.values());
      };
      const categories = [
        ...new Set(
          calls
            .filter((c) => c.service === 'ecs')
            .map((c) => ecsBucketOf(c.op)?.category)
            .filter((c) => c !== undefined),
        ),
      ];
      const peaks = categories.sort().map((category) => {
        const bucket = ECS_RATE_LIMITS.buckets[category]!;
        return {
          category,
          capacity: bucket.capacity,
          refill: bucket.refillPerSecond,
          admitted: Math.max(0, ...sim.throttle.admitted('ecs', category).values()),
          attempted: perSecond((c) => c.service === 'ecs' && ecsBucketOf(c.op)?.category === category),
        };
      });
      const delays = completions
        .map((c) => {
          const ci = drained.find((i) => i.ec2InstanceId === c.instanceId)!;
          const lastStopped = Math.max(...sim.ecs.tasks({ containerInstance: ci.arn }).map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY));
          return (c.at - lastStopped) / 1000;
        })
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      const ticks = runtime.invocations.filter((i) => i.source === 'schedule');
      const deferred = ticks.map((i) => (i.result as TickResult | undefined)?.deferred ?? 0);
      return {
        actions: world.drain.autoscaling.actions.length,
        expired: outcome.expired.length,
        early: outcome.early.length,
        completed: completions.length,
        ecsAsgCalls: calls.length,
        throttled: calls.filter((c) => c.error === 'ThrottlingException').length,
        peaks,
        asgPeak: { admitted: Math.max(0, ...sim.throttle.admitted('autoscaling', 'all').values()), attempted: perSecond((c) => c.service === 'autoscaling') },
        delays,
        invocations: runtime.invocations.length,
        timedOutInvocations: runtime.invocations.filter((i) => i.status === 'timed-out').length,
        ticks: ticks.length,
        ticksDeferring: deferred.filter((d) => d > 0).length,
        maxDeferred: Math.max(0, ...deferred),
        deferredTotal: deferred.reduce((a, b) => a + b, 0),
        completedByTick: ticks.reduce((n, i) => n + ((i.result as TickResult | undefined)?.results.filter((x) => x.outcome === 'drained').length ?? 0), 0),
        firstStepsFailed: runtime.invocations.filter(
          (i) => i.source === 'lifecycle' && i.attempt === 1 && (i.status !== 'succeeded' || (i.result as StepResult | undefined)?.outcome === 'error'),
        ).length,
        failedInvocations: runtime.invocations.filter((i) => i.status === 'failed').length,
        breaches: [...outcome.early.map((e) => `early completion: ${e}`), ...outcome.expired.map((e) => `hook expired: ${e}`)],
        simMinutes: (sim.clock.now() - start) / 60_000,
        wallSeconds: (performance.now() - started) / 1000,
      };
    });
  } finally {
    await runtime.close();
    bundles?.remove();
    process.setSourceMapsEnabled(maps);
  }
}

/**
 * The issue asks for 500 instances × 20 tasks. The Lambda runtime emulator
 * runs every concurrent invocation in its own execution environment, each a
 * cold start that loads the bundle: 10 instances × 20 tasks are ~700
 * invocations and 4 minutes of real time on a shared 2-core machine, and 20
 * instances did not get through their first simulated minute in 13 minutes.
 * 500 × 20 (~35,000 invocations) is out of reach of this emulator: the
 * default is the run that fits a bench; BENCH_MASS_INSTANCES sets another.
 * benchMassScaleInProcess runs 500 × 20 with the handler loaded from source.
 */
export const MASS_DEFAULT: MassScaleIn = { instances: Number(process.env.BENCH_MASS_INSTANCES ?? 10), tasksPerInstance: 20, asgBucket: [50, 10] };

export async function benchMassScaleIn(opts: MassScaleIn = MASS_DEFAULT): Promise<string> {
  const r = await measureMassScaleIn(opts);
  return [
    `${opts.instances} instances × ${opts.tasksPerInstance} service tasks (20 replica services that can move, minimumHealthyPercent 100, maximumPercent 200),`,
    'all terminated in the same second. The drain bundle runs on the Lambda runtime in sim time (SDK backoff costs simulated seconds, the 60 s',
    'timeout kills) with its rules and a rate(1 minute) tick, HeartbeatTimeout 300 s. ECS is throttled at the token buckets of the ECS API',
    `Reference (request-throttling page); Auto Scaling at one shared bucket of ${opts.asgBucket[0]} / ${opts.asgBucket[1]} per s (AWS publishes no numbers: an assumption). No other faults.`,
    '',
    ...massTables(opts, r),
    '',
    `Wall time: ${r.wallSeconds.toFixed(0)} s.`,
  ].join('\n');
}

function massTables(opts: MassScaleIn, r: MassScaleInResult): string[] {
  const p = (q: number) => quantile(r.delays, q).toFixed(0);
  return [
    '| lifecycle actions | hook expiries (target 0) | early completions (target 0) | ECS + ASG calls per drain (throttled attempts included) | throttled attempts | last STOPPED → Complete p50 / p99 (sim s) | invocations | timed out | ticks deferring work (most deferred) | sim minutes to the last completion |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.actions} | ${r.expired} | ${r.early} | ${(r.ecsAsgCalls / r.actions).toFixed(1)} | ${r.throttled} | ${p(0.5)} / ${p(0.99)} | ${r.invocations} | ${r.timedOutInvocations} | ${r.ticksDeferring} of ${r.ticks} (${r.maxDeferred}) | ${r.simMinutes.toFixed(1)} |`,
    '',
    '| ECS bucket | documented burst | documented refill per s | peak admitted in one second | peak attempted in one second |',
    '|---|---:|---:|---:|---:|',
    ...r.peaks.map((b) => `| ${b.category} | ${b.capacity} | ${b.refill} | ${b.admitted} | ${b.attempted} |`),
    `| Auto Scaling (shared, assumed) | ${opts.asgBucket[0]} | ${opts.asgBucket[1]} | ${r.asgPeak.admitted} | ${r.asgPeak.attempted} |`,
  ];
}

/**
 * The size the issue asks for, 500 instances × 20 tasks, with the handler
 * loaded from source (`code: 'source'`): the same runtime, rules, tick, sim
 * time and throttling as benchMassScaleIn, without the bundle evaluated at
 * each of the thousands of cold starts. BENCH_MASS_SOURCE_INSTANCES sets another size.
 */
export const MASS_SOURCE: MassScaleIn = {
  instances: Number(process.env.BENCH_MASS_SOURCE_INSTANCES ?? 500),
  tasksPerInstance: 20,
  asgBucket: [50, 10],
  code: 'source',
};

export async function benchMassScaleInProcess(opts: MassScaleIn = MASS_SOURCE): Promise<string> {
  const r = await measureMassScaleIn(opts);
  return [
    `${opts.instances} instances × ${opts.tasksPerInstance} service tasks (20 replica services that can move, minimumHealthyPercent 100, maximumPercent 200),`,
    'all terminated in the same second, as in the section above, but each cold start loads functions/drain/handler.ts from source in this',
    'process (its own SDK clients and adaptive rate limiters, as a new execution environment has) instead of evaluating the bundle. The',
    'Lambda runtime runs it in sim time (SDK backoff costs simulated seconds, the 60 s timeout kills, remaining time shrinks) with the rules',
    'and the rate(1 minute) tick, HeartbeatTimeout 300 s, DynamoDB on dynalite. ECS is throttled at the token buckets of the ECS API Reference',
    `(request-throttling page); Auto Scaling at one shared bucket of ${opts.asgBucket[0]} / ${opts.asgBucket[1]} per s (AWS publishes no numbers: an assumption). No other faults.`,
    '',
    ...massTables(opts, r),
    '',
    `Records deferred to a later tick, summed over the ${r.ticks} ticks: ${r.deferredTotal}. Lifecycle-event invocations whose first step failed`,
    `(throttled past the SDK's five attempts), leaving the drain to the tick: ${r.firstStepsFailed} of ${r.actions}. Actions completed by a tick: ${r.completedByTick};`,
    `invocations that threw (retried by Lambda): ${r.failedInvocations}. The slow tail of last STOPPED → Complete is these drains waiting for`,
    'a tick that has time for them: a tick gives up starting work 10 s before its 60 s timeout.',
    ...(r.breaches.length ? ['', 'Breaches (each one a bug in functions/drain):', '', ...r.breaches.slice(0, 20).map((b) => `- ${b}`)] : []),
    '',
    `Wall time: ${r.wallSeconds.toFixed(0)} s.`,
  ].join('\n');
}
