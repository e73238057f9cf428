/**
 * Auto Scaling and ECS are the source of truth (functions/drain/reconcile.ts):
 * the cases of issue 12 where the table-first drain lost hooks or left
 * instances DRAINING. Each runs the real drain logic against the simulator,
 * with DynamoDB behind it so that outage windows reach the table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TickResult } from '../../functions/drain/context.ts';
import { actionIdOf, type DrainRecord } from '../../functions/drain/records.ts';
import type { LifecycleAction } from '../../sim/autoscaling.ts';
import { callsOf, runningAtCompletion, runUntil, scaleInFleet, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const MINUTE = 60_000;
const LIFECYCLE = 'EC2 Instance-terminate Lifecycle Action';

const summarize = (actions: LifecycleAction[]) => actions.map((a) => `${a.status}:${a.completedBy ?? '-'}:${a.result ?? '-'}`);

describe('drain: DynamoDB throttled for 5 minutes while 20 instances are scaled in', () => {
  it('keeps every hook alive by instance id, sets DRAINING from the event, and completes each action only once its tasks are STOPPED', async () => {
    // 240 s is the shortest HeartbeatTimeout the config accepts with a tick every minute.
    h = await startHarness({ dynamoViaSim: true, drain: { heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 3600 } });
    // The batch tasks outlast the outage, which outlasts the hook's 240 s HeartbeatTimeout.
    const instances = scaleInFleet(h, 20, 7 * 60);
    const { sim, world } = h;
    await sim.clock.advance(10_000);
    const start = sim.clock.now();
    sim.faults.outage({ service: 'dynamodb', from: start, to: start + 5 * MINUTE });
    const actions = instances.map((ci) => world.autoscaling.terminate('prod-asg', ci.ec2InstanceId)[0]!);

    // While the table is down, the events set DRAINING, the ticks heartbeat every action, and an
    // action is completed only when ECS shows its tasks STOPPED.
    await sim.clock.advance(3 * MINUTE);
    const drained = new Set(callsOf(h, 'ecs', 'UpdateContainerInstancesState').map((c) => c.input.containerInstances[0]));
    expect(instances.every((ci) => drained.has(ci.arn))).toBe(true);
    expect(h.metric('DrainTableUnavailable').length).toBeGreaterThanOrEqual(20);
    expect(summarize(actions)).toEqual(actions.map(() => 'pending:-:-'));

    await runUntil(h, () => actions.every((a) => a.status !== 'pending'), { maxMs: 60 * MINUTE, stepMs: 5_000 });
    expect(summarize(actions)).toEqual(actions.map(() => 'completed:api:CONTINUE'));
    for (const [n, action] of actions.entries()) expect(runningAtCompletion(h, instances[n]!.arn, action)).toBe(0);
    // Kept alive through the outage and past it, by heartbeats alone.
    expect(Math.min(...actions.map((a) => a.completedAt! - a.startedAt))).toBeGreaterThan(5 * MINUTE);
    expect(Math.min(...actions.map((a) => a.heartbeats))).toBeGreaterThanOrEqual(5);
    expect(h.metric('DrainAdopted').length).toBeGreaterThanOrEqual(1);
    expect(await h.openRecords()).toEqual([]);
  });
});

describe('drain: every lifecycle event lost on the bus', () => {
  it('adopts each action the tick finds in Terminating:Wait, drains it and completes it when its tasks are STOPPED', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
    const instances = scaleInFleet(h, 3);
    const { sim, world } = h;
    h.dropWhen((e) => e['detail-type'] === LIFECYCLE);
    await sim.clock.advance(10_000);
    const actions = instances.map((ci) => world.autoscaling.terminate('prod-asg', ci.ec2InstanceId)[0]!);

    await runUntil(h, () => actions.every((a) => a.status !== 'pending'), { maxMs: 30 * MINUTE, stepMs: 5_000 });
    expect(summarize(actions)).toEqual(actions.map(() => 'completed:api:CONTINUE'));
    for (const [n, action] of actions.entries()) expect(runningAtCompletion(h, instances[n]!.arn, action)).toBe(0);
    expect(h.metric('DrainAdopted')).toEqual([1, 1, 1]);
    // No event carried a token: every call named the action by its instance.
    const asgCalls = [...callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat'), ...callsOf(h, 'autoscaling', 'CompleteLifecycleAction')];
    expect(asgCalls.every((c) => c.input.LifecycleActionToken === undefined && c.input.InstanceId)).toBe(true);
    // Found by the first tick (at most a minute), then the time ECS takes to move two tasks.
    expect(Math.max(...actions.map((a) => a.completedAt! - a.startedAt))).toBeLessThan(5 * MINUTE);
    const firstTick = h.invocations.find((i) => i.trigger === 'tick')!.result as TickResult;
    expect(firstTick.autoScaling).toMatchObject({ described: true, waiting: 3, heartbeats: 3, adopted: 3 });
  });
});

describe('drain: an event late enough that the tick adopted its action first, and Auto Scaling unable to describe', () => {
  it('drains once with two records for one action: one Complete accepted, the other record closed, nothing set back to ACTIVE', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
    const [instance] = scaleInFleet(h, 1, 150);
    const { sim, world } = h;
    const held: Array<Parameters<Parameters<Harness['dropWhen']>[0]>[0]> = [];
    h.dropWhen((e) => {
      if (e['detail-type'] !== LIFECYCLE) return false;
      held.push(e);
      return true;
    });
    await sim.clock.advance(10_000);
    const [action] = world.autoscaling.terminate('prod-asg', instance!.ec2InstanceId);
    // The first tick adopts the action; the event comes 90 s late, after it.
    await sim.clock.advance(90_000);
    expect(h.metric('DrainAdopted')).toEqual([1]);
    expect(await h.invoke(held[0])).toMatchObject({ outcome: 'waiting' });
    expect(await h.openRecords()).toHaveLength(2);

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 20 * MINUTE, stepMs: 5_000 });
    await sim.clock.advance(2 * MINUTE);
    expect(action).toMatchObject({ status: 'completed', completedBy: 'api', result: 'CONTINUE' });
    expect(runningAtCompletion(h, instance!.arn, action!)).toBe(0);
    expect(world.autoscaling.completeCalls.filter((c) => c.accepted)).toHaveLength(1);
    expect(await h.openRecords()).toEqual([]);
    expect(h.metric('DrainReverted')).toEqual([]);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState').every((c) => c.input.status === 'DRAINING')).toBe(true);
  });

  it("falls back to the records' own heartbeats while DescribeAutoScalingGroups fails, and still completes", async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 3600 } });
    const [instance] = scaleInFleet(h, 1, 8 * 60);
    const { sim, world } = h;
    sim.faults.set({ services: ['autoscaling'], ops: ['DescribeAutoScalingGroups'], serverError: 1 });
    await sim.clock.advance(10_000);
    const [action] = world.autoscaling.terminate('prod-asg', instance!.ec2InstanceId);
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 20 * MINUTE, stepMs: 5_000 });
    expect(action).toMatchObject({ status: 'completed', completedBy: 'api', result: 'CONTINUE' });
    // The batch task started 10 s before the scale-in and runs 8 minutes: two HeartbeatTimeouts.
    expect(action!.completedAt! - action!.startedAt).toBeGreaterThan(7 * MINUTE);
    expect(h.metric('AutoScalingDescribeFailed').length).toBeGreaterThanOrEqual(8);
    // Every heartbeat named the token: they came from the record, not from Auto Scaling's list.
    const beats = callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.every((c) => c.input.LifecycleActionToken === action!.token)).toBe(true);
  });
});

describe('drain: a lifecycle event for which Auto Scaling has no pending action', () => {
  const strayEvent = (h: Harness, instanceId: string, token: string) => ({
    version: '0',
    id: `stray-${token}`,
    'detail-type': LIFECYCLE,
    source: 'aws.autoscaling',
    account: h.sim.account,
    time: new Date(h.sim.clock.now()).toISOString(),
    region: h.sim.region,
    resources: [h.world.autoscaling.groups.get('prod-asg')!.arn],
    detail: {
      LifecycleActionToken: token,
      AutoScalingGroupName: 'prod-asg',
      LifecycleHookName: h.config.drain.hookName,
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  });

  it('leaves a running instance ACTIVE for a garbage token, and starts nothing for the replay of an action already completed', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
    const [running, leaving] = scaleInFleet(h, 2);
    const { sim, world } = h;
    await sim.clock.advance(10_000);

    // A console test event or a garbage token for an instance in service.
    expect(await h.invoke(strayEvent(h, running!.ec2InstanceId, 'c0ffee00-0000-4000-8000-000000000000'))).toMatchObject({ outcome: 'not-pending' });

    // A real drain, then the replay of its event from an EventBridge archive an hour later.
    const [action] = world.autoscaling.terminate('prod-asg', leaving!.ec2InstanceId);
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 20 * MINUTE, stepMs: 5_000 });
    expect(action).toMatchObject({ status: 'completed', completedBy: 'api' });
    await sim.clock.advance(60 * MINUTE);
    const replay = sim.bus.emitted.find((e) => e['detail-type'] === LIFECYCLE)!;
    expect(await h.invoke({ ...replay, id: 'replayed-from-archive' })).toMatchObject({ outcome: 'not-pending' });

    expect(sim.ecs.containerInstances('prod').find((ci) => ci.arn === running!.arn)?.status).toBe('ACTIVE');
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState').map((c) => c.input.containerInstances[0])).toEqual([leaving!.arn]);
    expect(h.world.autoscaling.completeCalls.filter((c) => c.accepted)).toHaveLength(1);
    expect(h.metric('StrayLifecycleEvent')).toEqual([1, 1]);
    expect(await h.records.get(actionIdOf('prod-asg', running!.ec2InstanceId, 'c0ffee00-0000-4000-8000-000000000000'))).toBeUndefined();
    expect(await h.openRecords()).toEqual([]);
  });

  it('sets a container instance ACTIVE again when an action drained for vanished and the instance is still InService', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
    const [instance] = scaleInFleet(h, 1);
    const { sim } = h;
    await sim.clock.advance(10_000);
    // What a version that drained on the event alone left behind: an open record for a stray token,
    // its container instance DRAINING, and no action pending in Auto Scaling.
    const now = sim.clock.now();
    const record: DrainRecord = {
      id: actionIdOf('prod-asg', instance!.ec2InstanceId, 'stale-token'),
      state: 'open',
      asg: 'prod-asg',
      instanceId: instance!.ec2InstanceId,
      token: 'stale-token',
      hookName: h.config.drain.hookName,
      startedAt: now,
      heartbeatAt: now,
      heartbeats: 0,
      checks: 1,
      apiCalls: 0,
      cluster: 'prod',
      containerInstanceArn: instance!.arn,
      drainingAt: now,
    };
    await h.records.create(record);
    sim.ecs.setContainerInstanceStatus(instance!.arn, 'DRAINING');

    const tick = await h.tick();
    expect(tick.results).toEqual([{ outcome: 'action-gone', actionId: record.id }]);
    expect(sim.ecs.containerInstances('prod').find((ci) => ci.arn === instance!.arn)?.status).toBe('ACTIVE');
    expect(h.metric('DrainReverted')).toEqual([1]);
    expect(await h.openRecords()).toEqual([]);
  });
});
