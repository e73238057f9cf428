/**
 * What the tick reads from Auto Scaling (functions/drain/reconcile.ts): the
 * pure parts with plain data, and DescribeAutoScalingGroups paged through the
 * simulator with the real SDK client.
 */
import { AutoScalingClient, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../functions/drain/aws.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Ctx, DrainDeps } from '../../functions/drain/context.ts';
import { instancesOf, keepAliveFromAutoScaling, unknownActions, WAIT_STATES } from '../../functions/drain/reconcile.ts';
import { installDrainWorld } from '../../sim/drain.ts';
import { startSim, type Sim } from '../../sim/index.ts';

const group = (name: string | undefined, instances: Array<[string | undefined, string | undefined]>): AutoScalingGroup =>
  ({
    AutoScalingGroupName: name,
    Instances: instances.map(([InstanceId, LifecycleState]) => ({ InstanceId, LifecycleState })),
  }) as AutoScalingGroup;

describe('instancesOf', () => {
  it('keeps the configured groups only, and skips instances without an id or a state', () => {
    const view = instancesOf(
      [
        group('prod-asg', [
          ['i-01', 'InService'],
          ['i-02', 'Terminating:Wait'],
          [undefined, 'Terminating:Wait'],
          ['i-03', undefined],
        ]),
        group('other-asg', [['i-09', 'Terminating:Wait']]),
        group(undefined, [['i-08', 'Terminating:Wait']]),
        group('batch-asg', []),
      ],
      ['prod-asg', 'batch-asg'],
    );
    expect([...view.values()]).toEqual([
      { asg: 'prod-asg', instanceId: 'i-01', lifecycleState: 'InService' },
      { asg: 'prod-asg', instanceId: 'i-02', lifecycleState: 'Terminating:Wait' },
    ]);
  });

  it('waits on Terminating:Wait and Warmed:Pending:Wait, never on a state the instance leaves by itself', () => {
    expect([...WAIT_STATES].sort()).toEqual(['Terminating:Wait', 'Warmed:Pending:Wait']);
    for (const state of ['InService', 'Pending:Wait', 'Terminating:Proceed', 'Terminating:Retained', 'Standby']) expect(WAIT_STATES.has(state)).toBe(false);
  });
});

describe('unknownActions', () => {
  const alive = new Map([
    ['i-01', { asg: 'prod-asg', instanceId: 'i-01', lifecycleState: 'Terminating:Wait' }],
    ['i-02', { asg: 'prod-asg', instanceId: 'i-02', lifecycleState: 'Terminating:Wait' }],
    ['i-03', { asg: 'batch-asg', instanceId: 'i-03', lifecycleState: 'Terminating:Wait' }],
  ]);

  it('returns the pending actions no open record covers, matching group and instance', () => {
    const open = [
      { asg: 'prod-asg', instanceId: 'i-01' },
      // Two records for one action (its event and an earlier adoption): still one known action.
      { asg: 'prod-asg', instanceId: 'i-01' },
      // Same instance id in another group is another action.
      { asg: 'prod-asg', instanceId: 'i-03' },
      // A record whose instance Auto Scaling no longer lists changes nothing here.
      { asg: 'prod-asg', instanceId: 'i-07' },
    ];
    expect(unknownActions(alive, open).map((i) => `${i.asg}/${i.instanceId}`)).toEqual(['prod-asg/i-02', 'batch-asg/i-03']);
  });

  it('returns nothing when nothing is pending, and everything when the table knows nothing', () => {
    expect(unknownActions(new Map(), [{ asg: 'prod-asg', instanceId: 'i-01' }])).toEqual([]);
    expect(unknownActions(alive, [])).toHaveLength(3);
  });
});

describe('Api.describeGroups against the simulator', () => {
  let sim: Sim;
  let clients: { ecs: ECSClient; asg: AutoScalingClient };
  afterEach(async () => {
    clients?.ecs.destroy();
    clients?.asg.destroy();
    await sim?.close();
  });

  it('names at most 100 groups a call (MaxRecords 100), leaves out groups not configured, and survives a throttled page', async () => {
    sim = await startSim({ seed: 5 });
    const world = installDrainWorld(sim);
    const names = Array.from({ length: 150 }, (_, n) => `asg-${String(n).padStart(3, '0')}`);
    for (const name of [...names, 'not-configured']) world.autoscaling.addGroup(name);
    world.autoscaling.addInstance('asg-149', 'i-0last');
    world.autoscaling.addInstance('not-configured', 'i-0other');
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    clients = {
      ecs: new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials }),
      asg: new AutoScalingClient({ endpoint: sim.endpoint, region: sim.region, credentials, maxAttempts: 3 }),
    };
    sim.faults.failNext('autoscaling', 'DescribeAutoScalingGroups', 'Throttling', 1);
    const api = new Api(clients);

    const groups = await api.describeGroups(names);
    expect(groups.map((g) => g.AutoScalingGroupName)).toEqual(names);
    expect(instancesOf(groups, names).get('i-0last')).toEqual({ asg: 'asg-149', instanceId: 'i-0last', lifecycleState: 'InService' });
    const calls = sim.calls.filter((c) => c.op === 'DescribeAutoScalingGroups');
    expect(calls.map((c) => [c.input.AutoScalingGroupNames.length, c.input.MaxRecords, c.error])).toEqual([
      [100, '100', 'Throttling'],
      [100, '100', undefined],
      [50, '100', undefined],
    ]);
    expect(api.calls).toBe(2);
  });

  it('heartbeats each instance in a wait state by id, tells pending from gone, and stops when the invocation runs short', async () => {
    sim = await startSim({ seed: 6 });
    const world = installDrainWorld(sim);
    world.autoscaling.addGroup('prod-asg');
    world.autoscaling.putLifecycleHook('prod-asg', { name: 'drain', heartbeatTimeoutSeconds: 300 });
    world.autoscaling.addGroup('other-asg');
    world.autoscaling.putLifecycleHook('other-asg', { name: 'their-hook', heartbeatTimeoutSeconds: 300 });
    for (const id of ['i-01', 'i-02', 'i-03', 'i-04']) world.autoscaling.addInstance('prod-asg', id);
    world.autoscaling.terminate('prod-asg', 'i-02');
    world.autoscaling.terminate('prod-asg', 'i-03');
    world.autoscaling.terminate('prod-asg', 'i-04');
    // i-04's action was completed a moment ago; Auto Scaling still lists it in Terminating:Wait.
    world.autoscaling.action('i-04')!.status = 'completed';
    world.autoscaling.terminate('other-asg', 'i-09');
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    clients = {
      ecs: new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials }),
      asg: new AutoScalingClient({ endpoint: sim.endpoint, region: sim.region, credentials, maxAttempts: 3 }),
    };
    // Enough time for the first two instances only.
    let asked = 0;
    const deps = {
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'test' }),
      remainingMs: () => (++asked <= 2 ? 60_000 : 1_000),
      settings: { asgs: ['prod-asg'], hookName: 'drain' },
    } as unknown as DrainDeps;
    const ctx = { deps, cache: { daemons: new Map() } } as Ctx;

    const view = await keepAliveFromAutoScaling(ctx, new Api(clients), 5_000);
    expect(view.described).toBe(true);
    expect([...view.instances.keys()].sort()).toEqual(['i-01', 'i-02', 'i-03', 'i-04']);
    expect([...view.alive.keys()]).toEqual(['i-02', 'i-03']);
    expect(view.skipped).toBe(1);
    expect(view.heartbeats).toBe(2);
    expect(world.autoscaling.action('i-02')!.heartbeats).toBe(1);
    expect(world.autoscaling.action('i-09')!.heartbeats).toBe(0);

    const third = await keepAliveFromAutoScaling({ ...ctx, deps: { ...deps, remainingMs: () => 60_000 } }, new Api(clients), 5_000);
    expect([...third.alive.keys()]).toEqual(['i-02', 'i-03']);
    expect([...third.gone]).toEqual(['i-04']);
    const calls = sim.calls.filter((c) => c.op === 'RecordLifecycleActionHeartbeat');
    expect(calls.every((c) => c.input.InstanceId && c.input.LifecycleActionToken === undefined)).toBe(true);
  });
});
