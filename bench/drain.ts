/**
 * drain: ECS and Auto Scaling calls per drain, and how long after the last
 * task reached STOPPED the lifecycle action was completed, for instances with
 * 10, 100 and 500 service tasks. The real drain logic and SDK clients run
 * against the simulator (every call is in its log) and dynalite.
 */
import type { StepResult, TickResult } from '../functions/drain/context.ts';
import { lastStoppedAt, runningAtCompletion, runUntil, scaleInFleet, standardWorld, startHarness } from '../test/drain/harness.ts';
import { countBy } from '../functions/shared/count.ts';

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
    "Calls are counted in the simulator's log (retries included; no faults here). A done check is ListTasks for desired status RUNNING and STOPPED",
    '(pages of 100), DescribeTasks in batches of 100, DescribeContainerInstances, and ListServices (DAEMON) once per invocation.',
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
