/**
 * The simulator's rate limits: ECS token buckets at the documented burst and
 * sustained rates, one bucket per category of actions, refilled on the sim
 * clock; one shared bucket for Auto Scaling; and the delay before a new task
 * shows in ListTasks and DescribeTasks.
 */
import { AutoScalingClient, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeClustersCommand, DescribeTasksCommand, type ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDrainWorld } from '../../sim/drain.ts';
import { ECS_RATE_LIMITS, ecsBucketOf, sharedBucket, startSim, type Sim } from '../../sim/index.ts';
import { credentials, ecsClient } from './clients.ts';

let sim: Sim;
let ecs: ECSClient;

beforeEach(async () => {
  sim = await startSim({ seed: 3, start: new Date('2026-06-01T09:00:00Z') });
  // One attempt: the test sees each throttled answer instead of the SDK's retries.
  ecs = ecsClient(sim, { maxAttempts: 1 });
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-1', cpu: 8192, memory: 16384 });
  sim.ecs.defineTaskDefinition('job', { cpu: 8, memory: 16 });
});
afterEach(async () => {
  ecs?.destroy();
  await sim?.close();
});

const outcomes = async (n: number, send: () => Promise<unknown>) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      await send().then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
  return out;
};
const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

describe('ECS request throttling', () => {
  it('knows the documented buckets of the calls drain makes', () => {
    expect(ecsBucketOf('DescribeTasks')).toMatchObject({ category: 'cluster-resource-read', capacity: 100, refillPerSecond: 20 });
    expect(ecsBucketOf('ListTasks')?.category).toBe('cluster-resource-read');
    expect(ecsBucketOf('DescribeContainerInstances')?.category).toBe('cluster-resource-read');
    expect(ecsBucketOf('UpdateContainerInstancesState')).toMatchObject({ category: 'cluster-resource-modify', capacity: 100, refillPerSecond: 40 });
    expect(ecsBucketOf('ListServices')).toMatchObject({ category: 'service-read', capacity: 100, refillPerSecond: 20 });
    expect(ecsBucketOf('DescribeCapacityProviders')).toMatchObject({ capacity: 50, refillPerSecond: 20 });
  });

  it('lets a burst of 100 reads through, throttles the 101st, and refills 20 a second, shared by the whole category', async () => {
    sim.throttle.limit('ecs', ECS_RATE_LIMITS);
    const list = () => ecs.send(new ListTasksCommand({ cluster: 'prod' }));
    const burst = await outcomes(101, list);
    expect(count(burst, 'ok')).toBe(100);
    expect(burst.at(-1)).toBe('ThrottlingException');
    // DescribeTasks draws from the same bucket; DescribeClusters from another one.
    await expect(ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: ['x'] }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }))).resolves.toBeDefined();

    // Tokens come back a second's worth at a time ("a set number of tokens is added back to it every second").
    await sim.clock.advance(500);
    expect(count(await outcomes(5, list), 'ok')).toBe(0);
    await sim.clock.advance(500);
    expect(count(await outcomes(25, list), 'ok')).toBe(20);
    await sim.clock.advance(60_000);
    // Never more than the capacity, however long the bucket rested.
    expect(count(await outcomes(120, list), 'ok')).toBe(100);
    // So no second ever admits more than the burst.
    const admitted = sim.throttle.admitted('ecs', 'cluster-resource-read');
    expect(Math.max(...admitted.values())).toBe(100);
  });

  it('throttles a write bucket at its own rates, and nothing once the limits are lifted', async () => {
    sim.throttle.limit('ecs', ECS_RATE_LIMITS);
    const stop = () => ecs.send(new StopTaskCommand({ cluster: 'prod', task: 'nope' }));
    const first = await outcomes(101, stop);
    // 100 tokens, each spent on a call the service then refuses (no such task); the 101st never reaches it.
    expect(count(first, 'InvalidParameterException')).toBe(100);
    expect(first.at(-1)).toBe('ThrottlingException');
    await sim.clock.advance(1_000);
    expect(count(await outcomes(50, stop), 'InvalidParameterException')).toBe(40);
    sim.throttle.limit('ecs', undefined);
    expect(count(await outcomes(200, stop), 'ThrottlingException')).toBe(0);
  });

  it('throttles Auto Scaling against one shared bucket of the size the test chooses', async () => {
    installDrainWorld(sim, { seed: 3 });
    const asg = new AutoScalingClient({ endpoint: sim.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
    try {
      sim.throttle.limit('autoscaling', sharedBucket(5, 2));
      // Heartbeats for an action that does not exist: answered ValidationError while tokens last.
      const heartbeat = () =>
        asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'none', LifecycleHookName: 'drain', InstanceId: 'i-0123456789abcdef0' }));
      const out = await outcomes(6, heartbeat);
      expect(count(out, 'ThrottlingException')).toBe(1);
      expect(out.at(-1)).toBe('ThrottlingException');
      await sim.clock.advance(1_000);
      expect(count(await outcomes(5, heartbeat), 'ThrottlingException')).toBe(3);
    } finally {
      asg.destroy();
    }
  });
});

describe('ECS eventual consistency', () => {
  it('shows a new task to ListTasks and DescribeTasks only after the visibility delay, and at once by default', async () => {
    const world = installDrainWorld(sim, { seed: 3 });
    const [instance] = sim.ecs.containerInstances('prod');
    const now = world.services.runStandalone(instance!.arn, 'job');
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod' }))).taskArns).toEqual([now.arn]);

    await sim.clock.advance(10_000);
    sim.ecs.visibilityDelayMs = 5_000;
    const late = world.services.runStandalone(instance!.arn, 'job');
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod' }))).taskArns).toEqual([now.arn]);
    const described = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [late.arn] }));
    expect(described.tasks).toEqual([]);
    expect(described.failures).toEqual([{ arn: late.arn, reason: 'MISSING' }]);
    await sim.clock.advance(5_000);
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod' }))).taskArns).toEqual([now.arn, late.arn]);
    expect((await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [late.arn] }))).tasks).toHaveLength(1);
  });
});
