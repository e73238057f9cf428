/**
 * What drain must not take on trust: a lifecycle event's `time`, the filter
 * of ListContainerInstances, and the claim that a warm-pool instance runs
 * nothing. Each case against the simulator, the way it went wrong before.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadAwsEvent } from '../support/fixtures.ts';
import { callsOf, runUntil, standardWorld, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

const MINUTE = 60_000;

/** The documented lifecycle event, made to carry this action and `time`. */
function lifecycleEvent(h: Harness, action: { token: string; instanceId: string }, time: string) {
  const documented = loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');
  return {
    ...documented,
    time,
    detail: {
      ...documented.detail,
      AutoScalingGroupName: 'prod-asg',
      LifecycleHookName: h.config.drain.hookName,
      EC2InstanceId: action.instanceId,
      LifecycleActionToken: action.token,
    },
  };
}

const stoppedAt = (h: Harness, arn: string) => Math.max(...h.sim.ecs.tasks({ containerInstance: arn }).map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY));

describe('drain: the event time is not trusted blindly', () => {
  it.each([
    ['years in the past', '2019-03-14T22:27:51Z', 'too-old'],
    ['an hour in the future', '2026-06-01T10:00:05Z', 'future'],
  ])('an event whose time is %s does not complete CONTINUE while tasks run, and is logged', async (_what, time, reason) => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    h = await startHarness({ drain: { drainTimeoutSeconds: 600 } });
    const { drained } = standardWorld(h);
    h.sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    h.sim.ecs.defineTaskDefinition('api');
    h.world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 2 }] });
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    await h.sim.clock.advance(10_000);
    h.dropWhen((e) => e.source === 'aws.autoscaling');
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.bus.drain();

    const result = await h.invoke(lifecycleEvent(h, action!, time), 'lifecycle');
    expect(result).toMatchObject({ outcome: 'waiting' });
    expect(action!.status).toBe('pending');
    expect(h.sim.ecs.containerInstance(drained.arn)?.status).toBe('DRAINING');
    const [record] = await h.openRecords();
    expect(record!.startedAt).toBe(h.sim.clock.now());
    expect(warn).toHaveBeenCalledWith(
      'Lifecycle event time is not plausible: the drain timeout runs from now instead',
      expect.objectContaining({ instanceId: 'i-0d7a1e', eventTime: new Date(time).toISOString(), reason }),
    );
    expect(h.metric('EventTimeDistrusted')).toEqual([1]);

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 15 * MINUTE, stepMs: 5_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAt(h, drained.arn));
    expect(h.metric('DrainTimedOut')).toEqual([]);
  });

  it('keeps a plausible time: a lifecycle event delivered 90 s late still times out from the action start', async () => {
    h = await startHarness({ drain: { drainTimeoutSeconds: 600 } });
    const { drained } = standardWorld(h);
    h.world.services.runStandalone(drained.arn, 'forever');
    await h.sim.clock.advance(10_000);
    h.dropWhen((e) => e.source === 'aws.autoscaling');
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    const start = h.sim.clock.now();
    await h.sim.clock.advance(90_000);
    await h.invoke(lifecycleEvent(h, action!, new Date(start).toISOString()), 'lifecycle');
    const [record] = await h.openRecords();
    expect(record!.startedAt).toBe(start);
    expect(h.metric('EventTimeDistrusted')).toEqual([]);
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 15 * MINUTE, stepMs: 5_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    // Timed out by the first tick after start + 600 s, not 600 s after the late delivery.
    expect(action!.completedAt! - start).toBeGreaterThanOrEqual(600_000);
    expect(action!.completedAt! - start).toBeLessThan(600_000 + 90_000);
    expect(h.metric('DrainTimedOut')).toEqual([1]);
  });
});

/** An ECS emulator that answers ListContainerInstances as if no filter had been given, as some do. */
function ignoreInstanceFilter(h: Harness): void {
  const ecs = h.sim.service('ecs')!;
  const list = ecs.operations.ListContainerInstances!;
  ecs.operations.ListContainerInstances = (input, ctx) => list({ ...input, filter: undefined }, ctx);
}

describe('drain: the ec2InstanceId filter is checked against the described instance', () => {
  it('drains the terminating instance, not the first one an emulator that ignores the filter lists', async () => {
    const error = vi.spyOn(Logger.prototype, 'error');
    h = await startHarness();
    h.sim.ecs.addCluster('prod');
    // Registered first, so listed first: the old code drained this one and let i-0d7a1e go with its tasks.
    const bystander = h.sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0b7s7d' });
    const { drained } = standardWorld(h);
    h.sim.ecs.defineTaskDefinition('api');
    h.world.services.addService('prod', {
      name: 'api',
      taskDefinition: 'api',
      on: [
        { instance: drained.arn, count: 2 },
        { instance: bystander.arn, count: 2 },
      ],
    });
    await h.sim.clock.advance(10_000);
    ignoreInstanceFilter(h);

    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * MINUTE });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAt(h, drained.arn));
    expect(h.sim.ecs.containerInstance(bystander.arn)?.status).toBe('ACTIVE');
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState').map((c) => c.input.containerInstances)).toEqual([[drained.arn]]);
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('ListContainerInstances returned a container instance of another EC2 instance'),
      expect.objectContaining({ instanceId: 'i-0d7a1e', listedEc2InstanceId: 'i-0b7s7d', listedContainerInstanceArn: bystander.arn }),
    );
    expect(h.metric('ContainerInstanceMismatch')).toEqual([1]);
  });

  it('pages through every listed instance, describing 100 at a time, before it finds the right one', async () => {
    h = await startHarness();
    h.sim.ecs.addCluster('prod');
    for (let i = 0; i < 150; i++) h.sim.ecs.addContainerInstance('prod', { ec2InstanceId: `i-0${(0xa000 + i).toString(16)}` });
    const { drained } = standardWorld(h);
    h.sim.ecs.defineTaskDefinition('api');
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    await h.sim.clock.advance(10_000);
    ignoreInstanceFilter(h);

    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * MINUTE });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(callsOf(h, 'ecs', 'ListContainerInstances')).toHaveLength(2);
    expect(callsOf(h, 'ecs', 'DescribeContainerInstances')[0]!.input.containerInstances).toHaveLength(100);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState').map((c) => c.input.containerInstances)).toEqual([[drained.arn]]);
    expect(h.metric('ContainerInstanceMismatch')).toEqual([150]);
  });

  it('continues an instance that no listed container instance belongs to, and drains none of them', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    ignoreInstanceFilter(h);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0f00d');
    await h.sim.bus.drain();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(h.metric('DrainNotRegistered')).toEqual([1]);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(0);
    expect(h.sim.ecs.containerInstance(drained.arn)?.status).toBe('ACTIVE');
  });

  it('does not drain on a Spot warning for an instance the filter answer does not match', async () => {
    h = await startHarness({ drain: { spotInterruption: true } });
    const { drained, spare } = standardWorld(h);
    ignoreInstanceFilter(h);
    const warning = loadAwsEvent('ec2-spot-interruption-warning-docs.json');
    await h.invoke({ ...warning, detail: { 'instance-id': 'i-0a5a7e', 'instance-action': 'terminate' } }, 'spot');
    expect(h.sim.ecs.containerInstance(spare.arn)?.status).toBe('DRAINING');
    expect(h.sim.ecs.containerInstance(drained.arn)?.status).toBe('ACTIVE');
  });
});

describe('drain: a stored location that ECS later describes as another instance', () => {
  it('is never drained again or completed on: ERROR naming both, the location is forgotten and looked up anew', async () => {
    const error = vi.spyOn(Logger.prototype, 'error');
    h = await startHarness();
    const { drained } = standardWorld(h);
    h.world.services.runStandalone(drained.arn, 'forever');
    h.dropWhen((e) => e.source === 'aws.ecs');
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.bus.drain();
    expect((await h.openRecords())[0]).toMatchObject({ containerInstanceArn: drained.arn });

    // ECS now says this ARN is another EC2 instance's (an inconsistent answer, or a re-used id in an emulator).
    h.sim.ecs.containerInstance(drained.arn)!.ec2InstanceId = 'i-0e15e';
    const tick = await h.tick();
    expect(tick.results.map((r) => r.outcome)).toEqual(['error']);
    expect(error).toHaveBeenCalledWith(
      'Container instance belongs to another EC2 instance: not draining it',
      expect.objectContaining({ instanceId: 'i-0d7a1e', containerInstanceArn: drained.arn, describedEc2InstanceId: 'i-0e15e' }),
    );
    expect(h.metric('ContainerInstanceMismatch')).toEqual([1]);
    expect(action!.status).toBe('pending');
    const [record] = await h.openRecords();
    expect(record!.containerInstanceArn).toBeUndefined();
    expect(record!.cluster).toBeUndefined();
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(1);
  });
});

describe('drain: an instance leaving the warm pool', () => {
  it('is drained like any other when its agent registered and runs tasks (no ECS_WARM_POOLS_CHECK=true)', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    h = await startHarness();
    const { drained } = standardWorld(h);
    h.sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    h.world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 3 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e', { origin: 'WarmPool', destination: 'EC2' });
    await h.sim.clock.advance(1_500);
    // Before: CONTINUE after 1 s with 3 tasks RUNNING and no ECS call.
    expect(action!.status).toBe('pending');
    expect(h.sim.ecs.containerInstance(drained.arn)?.status).toBe('DRAINING');
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('ECS_WARM_POOLS_CHECK=true'),
      expect.objectContaining({ instanceId: 'i-0d7a1e', status: 'ACTIVE' }),
    );
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * MINUTE });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAt(h, drained.arn));
    expect(h.metric('WarmPoolInstanceRegistered')).toEqual([1]);
    expect(h.metric('DrainCompleted')).toEqual([1]);
    expect(h.metric('DrainSkippedWarmPool')).toEqual([]);
  });

  it('continues at once when ECS does not know the instance, counted as a warm-pool skip', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0c01d', { origin: 'WarmPool', destination: 'EC2' });
    await h.sim.bus.drain();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(h.invocations.map((i) => (i.result as { outcome?: string } | undefined)?.outcome)).toEqual(['warm-pool']);
    expect(h.metric('DrainSkippedWarmPool')).toEqual([1]);
    expect(h.sim.ecs.containerInstance(drained.arn)?.status).toBe('ACTIVE');
  });
});
