/**
 * The simulator's Auto Scaling (awsQuery) and ECS draining model, through the
 * real SDK clients the drain function uses.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  paginateDescribeAutoScalingGroups,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeCapacityProvidersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListServicesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { ECS_TIMING, startSim, type Sim } from '../../sim/index.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { credentials, ecsClient } from './clients.ts';

let sim: Sim;
let world: DrainWorld;
let ecs: ECSClient;
let asg: AutoScalingClient;

beforeEach(async () => {
  sim = await startSim({ start: new Date('2026-05-04T10:00:00Z'), seed: 7 });
  world = installDrainWorld(sim);
  ecs = ecsClient(sim);
  asg = new AutoScalingClient({ endpoint: sim.endpoint, region: 'eu-west-1', credentials, maxAttempts: 3 });
});
afterEach(async () => {
  ecs.destroy();
  asg.destroy();
  await sim.close();
});

const lifecycleEvents = () => sim.bus.emitted.filter((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action');

describe('Auto Scaling lifecycle hooks (awsQuery)', () => {
  beforeEach(() => {
    world.autoscaling.addGroup('web-asg');
    world.autoscaling.putLifecycleHook('web-asg', { name: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
  });

  it('puts an event shaped like the documented one, and completes the action once', async () => {
    const [action] = world.autoscaling.terminate('web-asg', 'i-0aaa');
    const [event] = lifecycleEvents();
    const documented = loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');
    expect(Object.keys(event!).sort()).toEqual(Object.keys(documented).sort());
    expect(Object.keys(event!.detail).sort()).toEqual(
      Object.keys(documented.detail)
        .filter((k) => k !== 'NotificationMetadata')
        .sort(),
    );
    expect(event!.detail).toMatchObject({
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'drain',
      EC2InstanceId: 'i-0aaa',
      LifecycleActionToken: action!.token,
    });
    expect(event!.resources[0]).toMatch(/^arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:[0-9a-f-]+:autoScalingGroupName\/web-asg$/);

    const complete = {
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'drain',
      LifecycleActionToken: action!.token,
      InstanceId: 'i-0aaa',
      LifecycleActionResult: 'CONTINUE',
    };
    await asg.send(new CompleteLifecycleActionCommand(complete));
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });

    const again = await asg.send(new CompleteLifecycleActionCommand(complete)).catch((e) => e);
    expect(again.name).toBe('ValidationError');
    expect(again.message).toBe('No active Lifecycle Action found with instance ID i-0aaa');
    expect(world.autoscaling.completeCalls.map((c) => c.accepted)).toEqual([true, false]);
  });

  it('applies the default result when no heartbeat comes, and heartbeats push it back up to the global timeout', async () => {
    const [quiet] = world.autoscaling.terminate('web-asg', 'i-0quiet');
    const [kept] = world.autoscaling.terminate('web-asg', 'i-0kept');
    await sim.clock.advance(299_000);
    await asg.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: 'web-asg',
        LifecycleHookName: 'drain',
        LifecycleActionToken: kept!.token,
        InstanceId: 'i-0kept',
      }),
    );
    await sim.clock.advance(2_000);
    expect(quiet).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'heartbeat-timeout' });
    expect(kept).toMatchObject({ status: 'pending', heartbeats: 1 });

    // Global timeout: min(48 h, 100 × 300 s) = 30 000 s from the start, whatever the heartbeats.
    for (let t = 0; t < 110; t++) {
      if (kept!.status !== 'pending') break;
      await asg.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: 'web-asg',
          LifecycleHookName: 'drain',
          LifecycleActionToken: kept!.token,
          InstanceId: 'i-0kept',
        }),
      );
      await sim.clock.advance(290_000);
    }
    expect(kept).toMatchObject({ status: 'completed', completedBy: 'global-timeout' });
    expect(kept!.completedAt! - kept!.startedAt).toBe(30_000_000);
    const late = await asg
      .send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: 'web-asg',
          LifecycleHookName: 'drain',
          LifecycleActionToken: kept!.token,
          InstanceId: 'i-0kept',
        }),
      )
      .catch((e) => e);
    expect(late.name).toBe('ValidationError');
  });

  it('answers a throttled call like Auto Scaling, and the SDK retries it', async () => {
    const [action] = world.autoscaling.terminate('web-asg', 'i-0aaa');
    sim.faults.failNext('autoscaling', 'CompleteLifecycleAction', 'Throttling', 1);
    await asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'web-asg',
        LifecycleHookName: 'drain',
        LifecycleActionToken: action!.token,
        LifecycleActionResult: 'ABANDON',
      }),
    );
    expect(sim.calls.filter((c) => c.op === 'CompleteLifecycleAction').map((c) => c.error)).toEqual(['Throttling', undefined]);
    expect(action!.result).toBe('ABANDON');
  });

  it('keeps an ABANDONed instance when the group retains on abandon, and terminates it otherwise', async () => {
    world.autoscaling.addGroup('keep-asg', { retainOnAbandon: true });
    world.autoscaling.putLifecycleHook('keep-asg', { name: 'drain', heartbeatTimeoutSeconds: 60, defaultResult: 'ABANDON' });
    const fates: string[] = [];
    world.autoscaling.onInstanceLeft((group, id, fate) => fates.push(`${group}/${id}:${fate}`));
    world.autoscaling.terminate('keep-asg', 'i-0keep');
    world.autoscaling.terminate('web-asg', 'i-0gone');
    await sim.clock.advance(301_000);
    expect(fates.sort()).toEqual(['keep-asg/i-0keep:retained', 'web-asg/i-0gone:terminated']);
    expect(world.autoscaling.lifecycleState('keep-asg', 'i-0keep')).toBe('Terminating:Retained');
    expect(world.autoscaling.lifecycleState('web-asg', 'i-0gone')).toBeUndefined();
  });

  it('describes groups in pages with their instances in InService and Terminating:Wait, and heartbeats by instance id alone', async () => {
    for (let g = 0; g < 3; g++) world.autoscaling.addGroup(`extra-${g}`);
    world.autoscaling.addInstance('web-asg', 'i-0run');
    world.autoscaling.addInstance('web-asg', 'i-0out');
    world.autoscaling.terminate('web-asg', 'i-0out');
    const seen: Array<{ group?: string; instances: string[] }> = [];
    for await (const page of paginateDescribeAutoScalingGroups({ client: asg, pageSize: 2 }, {})) {
      for (const g of page.AutoScalingGroups ?? [])
        seen.push({ group: g.AutoScalingGroupName, instances: (g.Instances ?? []).map((i) => `${i.InstanceId}:${i.LifecycleState}`) });
    }
    expect(seen).toEqual([
      { group: 'extra-0', instances: [] },
      { group: 'extra-1', instances: [] },
      { group: 'extra-2', instances: [] },
      { group: 'web-asg', instances: ['i-0run:InService', 'i-0out:Terminating:Wait'] },
    ]);
    expect(sim.countCalls('autoscaling', 'DescribeAutoScalingGroups')).toBe(2);
    const named = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg', 'no-such-asg'] }));
    expect(named.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(['web-asg']);
    const tooMany = await asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })).catch((e) => e);
    expect(tooMany.name).toBe('ValidationError');

    // RecordLifecycleActionHeartbeat takes the instance id without the token (API reference: "the specified token or instance").
    await asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web-asg', LifecycleHookName: 'drain', InstanceId: 'i-0out' }));
    expect(world.autoscaling.action('i-0out')!.heartbeats).toBe(1);
    const inService = await asg
      .send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web-asg', LifecycleHookName: 'drain', InstanceId: 'i-0run' }))
      .catch((e) => e);
    expect(inService).toMatchObject({ name: 'ValidationError', message: 'No active Lifecycle Action found with instance ID i-0run' });
  });
});

describe('ECS container instances, services and draining', () => {
  let a: ReturnType<Sim['ecs']['addContainerInstance']>;
  let b: ReturnType<Sim['ecs']['addContainerInstance']>;

  beforeEach(() => {
    sim.ecs.addCluster('prod');
    a = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0aaa' });
    b = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0bbb' });
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    sim.ecs.defineTaskDefinition('api');
  });

  it('finds a container instance with the ec2InstanceId filter, and never lists an INACTIVE one by default', async () => {
    const found = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', filter: 'ec2InstanceId == i-0bbb' }));
    expect(found.containerInstanceArns).toEqual([b.arn]);
    world.services.instanceLeft('i-0bbb', 'terminated');
    expect((await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', filter: 'ec2InstanceId == i-0bbb' }))).containerInstanceArns).toEqual([]);
    const bad = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', filter: 'attribute:ecs.os-type == linux' })).catch((e) => e);
    expect(bad.name).toBe('InvalidParameterException');
  });

  it('replaces service tasks elsewhere and walks them through DEACTIVATING to STOPPED, with growing versions', async () => {
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: a.arn, count: 2 }] });
    world.services.addService('prod', { name: 'agent', taskDefinition: 'api', schedulingStrategy: 'DAEMON' });
    world.services.runStandalone(a.arn, 'api');
    await sim.clock.advance(10_000);
    const out = await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'prod', containerInstances: [a.arn], status: 'DRAINING' }));
    expect(out.containerInstances?.[0]?.status).toBe('DRAINING');

    const web = () => sim.ecs.tasks((t) => t.group === 'service:web');
    const seen = new Map<string, string[]>();
    sim.ecs.taskListeners.push((t) => seen.set(t.id, [...(seen.get(t.id) ?? []), t.lastStatus]));
    await sim.clock.advance(60_000);
    const onA = web().filter((t) => t.containerInstanceArn === a.arn);
    expect(onA.map((t) => t.lastStatus)).toEqual(['STOPPED', 'STOPPED']);
    for (const t of onA) expect(seen.get(t.id)).toEqual(['RUNNING', 'DEACTIVATING', 'STOPPING', 'STOPPED']);
    expect(web().filter((t) => t.containerInstanceArn === b.arn && t.lastStatus === 'RUNNING')).toHaveLength(2);
    // Daemon and standalone tasks are not the service scheduler's to move.
    expect(
      sim.ecs
        .tasks({ containerInstance: a.arn })
        .filter((t) => t.lastStatus === 'RUNNING')
        .map((t) => t.group)
        .sort(),
    ).toEqual(['family:api', 'service:agent']);

    const ciEvents = sim.bus.emitted.filter((e) => e['detail-type'] === 'ECS Container Instance State Change' && e.detail.containerInstanceArn === a.arn);
    expect(ciEvents[0]!.detail.status).toBe('DRAINING');
    const versions = ciEvents.map((e) => e.detail.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    const documented = loadAwsEvent('ecs-container-instance-state-change-active-docs.json');
    expect(Object.keys(ciEvents[0]!.detail).sort()).toEqual(Object.keys(documented.detail).sort());

    const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [a.arn] }));
    expect(described.containerInstances?.[0]).toMatchObject({ status: 'DRAINING', runningTasksCount: 2, ec2InstanceId: 'i-0aaa' });
  });

  it('moves nothing for a service with minimumHealthyPercent = maximumPercent = 100', async () => {
    world.services.addService('prod', {
      name: 'stuck',
      taskDefinition: 'api',
      minimumHealthyPercent: 100,
      maximumPercent: 100,
      on: [{ instance: a.arn, count: 1 }],
    });
    world.services.addService('prod', {
      name: 'half',
      taskDefinition: 'api',
      minimumHealthyPercent: 50,
      maximumPercent: 100,
      on: [{ instance: a.arn, count: 2 }],
    });
    await sim.clock.advance(10_000);
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'prod', containerInstances: [a.arn], status: 'DRAINING' }));
    await sim.clock.advance(120_000);
    expect(sim.ecs.tasks((t) => t.group === 'service:stuck').map((t) => t.lastStatus)).toEqual(['RUNNING']);
    const half = sim.ecs.tasks((t) => t.group === 'service:half');
    expect(half.filter((t) => t.containerInstanceArn === a.arn).map((t) => t.lastStatus)).toEqual(['STOPPED', 'STOPPED']);
    expect(half.filter((t) => t.containerInstanceArn === b.arn && t.lastStatus === 'RUNNING')).toHaveLength(2);
    const described = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['stuck', 'nope'] }));
    expect(described.services?.[0]?.deploymentConfiguration).toEqual({ minimumHealthyPercent: 100, maximumPercent: 100 });
    expect(described.failures?.[0]?.reason).toBe('MISSING');
  });

  it('lists DAEMON services and describes capacity providers with their managed draining', async () => {
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', desiredCount: 1 });
    world.services.addService('prod', { name: 'agent', taskDefinition: 'api', schedulingStrategy: 'DAEMON' });
    const daemons = await ecs.send(new ListServicesCommand({ cluster: 'prod', schedulingStrategy: 'DAEMON' }));
    expect(daemons.serviceArns).toEqual(['arn:aws:ecs:eu-west-1:123456789012:service/prod/agent']);
    for (let i = 0; i < 12; i++)
      world.services.addCapacityProvider({
        name: `cp${i}`,
        autoScalingGroupArn: `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/asg${i}`,
        managedDraining: i === 11 ? 'ENABLED' : 'DISABLED',
      });
    const first = await ecs.send(new DescribeCapacityProvidersCommand({}));
    expect(first.capacityProviders).toHaveLength(10);
    const second = await ecs.send(new DescribeCapacityProvidersCommand({ nextToken: first.nextToken }));
    expect(second.capacityProviders?.map((cp) => [cp.name, cp.autoScalingGroupProvider?.managedDraining])).toEqual([
      ['cp10', 'DISABLED'],
      ['cp11', 'ENABLED'],
    ]);
    expect(second.nextToken).toBeUndefined();
  });

  it('lets the drained instance go with its tasks when its group terminates it', async () => {
    world.autoscaling.addGroup('web-asg');
    world.autoscaling.putLifecycleHook('web-asg', { name: 'drain', heartbeatTimeoutSeconds: 60, defaultResult: 'CONTINUE' });
    world.services.addService('prod', { name: 'agent', taskDefinition: 'api', schedulingStrategy: 'DAEMON' });
    await sim.clock.advance(ECS_TIMING.pullMs + 1);
    world.autoscaling.terminate('web-asg', 'i-0aaa');
    await sim.clock.advance(61_000);
    expect(sim.ecs.containerInstance(a.arn)?.status).toBe('INACTIVE');
    expect(sim.ecs.tasks({ containerInstance: a.arn }).map((t) => t.lastStatus)).toEqual(['STOPPED']);
  });
});
