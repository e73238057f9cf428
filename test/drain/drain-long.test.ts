/**
 * Long drains against the simulator: heartbeats, the drain timeout and its
 * outcomes, standalone task policies, an action that is gone, throttling.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import { callsOf, runUntil, standardWorld, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const MINUTE = 60_000;
const stoppedAtOf = (h: Harness, instanceArn: string, filter: (group: string) => boolean = () => true) =>
  Math.max(
    ...h.sim.ecs
      .tasks({ containerInstance: instanceArn })
      .filter((t) => filter(t.group))
      .map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY),
  );

describe('drain: heartbeats', () => {
  it('keeps a 2 h drain alive with heartbeats (HeartbeatTimeout 300 s) and completes after the last task stops', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3 * 3600 } });
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('batch', { runSeconds: 2 * 3600 });
    world.services.runStandalone(drained.arn, 'batch');
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await sim.clock.advance(10_000);
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 2.5 * 3600_000, stepMs: MINUTE });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    const batchStopped = stoppedAtOf(h, drained.arn, (g) => g === 'family:batch');
    expect(batchStopped - action!.startedAt).toBeGreaterThan(7100_000);
    expect(action!.completedAt!).toBeGreaterThanOrEqual(batchStopped);
    expect(action!.completedAt! - batchStopped).toBeLessThanOrEqual(sim.bus.delayMs);
    // One heartbeat by instance id at every tick (once a minute for 2 h), whatever the table says,
    // plus the one that proved the action pending when its event came.
    expect(action!.heartbeats).toBeGreaterThanOrEqual(115);
    expect(action!.heartbeats).toBeLessThanOrEqual(125);
    expect(h.metric('HeartbeatSent').reduce((a, b) => a + b, 0)).toBe(action!.heartbeats);
    const beats = callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat').map((c) => c.at);
    const gaps = beats.slice(1).map((at, i) => at - beats[i]!);
    expect(Math.max(...gaps)).toBeLessThan(300_000);
  });
});

describe('drain: an invocation that claimed the completion and died', () => {
  it('the tick keeps the action alive while the claim lasts, then completes it', async () => {
    // HeartbeatTimeout 240 s (the shortest a 1-minute tick allows) runs out soon after the 3 min claim: the tick must heartbeat meanwhile.
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 3600 } });
    const { drained } = standardWorld(h);
    h.sim.ecs.defineTaskDefinition('job', { runSeconds: 100 });
    const job = h.world.services.runStandalone(drained.arn, 'job');
    h.dropWhen((e) => e.source === 'aws.ecs'); // only the tick looks at the action again
    await h.sim.clock.advance(5_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => job.lastStatus === 'STOPPED', { maxMs: 5 * MINUTE, stepMs: 1_000 });
    const [record] = await h.openRecords();
    const claimedAt = h.sim.clock.now();
    // An invocation claims the completion, as after a passing done check, and dies before calling Complete.
    expect(
      await h.records.claim(record!.id, { owner: 'dead', until: claimedAt + 3 * MINUTE, now: claimedAt, result: 'CONTINUE', outcome: 'drained' }),
    ).toMatchObject({ ok: true });

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * MINUTE, stepMs: 10_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThan(claimedAt + 3 * MINUTE);
    const beats = callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat').filter((c) => c.at > claimedAt && c.at < action!.completedAt!);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(await h.openRecords()).toEqual([]);
  });
});

describe('drain: the drain timeout', () => {
  for (const outcome of ['CONTINUE', 'ABANDON'] as const) {
    it(`applies timeoutOutcome ${outcome} when tasks are still there after drainTimeoutSeconds`, async () => {
      h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 900, timeoutOutcome: outcome } });
      const { drained } = standardWorld(h);
      h.world.autoscaling.groups.get('prod-asg')!.retainOnAbandon = true;
      const fates: string[] = [];
      h.world.autoscaling.onInstanceLeft((_g, id, fate) => fates.push(`${id}:${fate}`));
      h.world.services.runStandalone(drained.arn, 'forever');
      await h.sim.clock.advance(10_000);
      const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
      await runUntil(h, () => action!.status !== 'pending', { maxMs: 30 * MINUTE, stepMs: 10_000 });
      expect(action).toMatchObject({ status: 'completed', result: outcome, completedBy: 'api' });
      expect(action!.completedAt! - action!.startedAt).toBeGreaterThanOrEqual(900_000);
      expect(action!.completedAt! - action!.startedAt).toBeLessThanOrEqual(900_000 + MINUTE);
      expect(h.metric('DrainTimedOut')).toEqual([1]);
      // ABANDON with the group's "retain on abandon" lifecycle policy keeps the instance for inspection.
      expect(fates).toEqual([`i-0d7a1e:${outcome === 'ABANDON' ? 'retained' : 'terminated'}`]);
      expect(await h.openRecords()).toEqual([]);
    });
  }

  it('warns about a service with minimumHealthyPercent = maximumPercent = 100, then applies the timeout outcome', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 600, timeoutOutcome: 'ABANDON' } });
    const { drained } = standardWorld(h);
    h.world.services.addService('prod', {
      name: 'pinned',
      taskDefinition: 'api',
      minimumHealthyPercent: 100,
      maximumPercent: 100,
      on: [{ instance: drained.arn, count: 2 }],
    });
    h.world.services.addService('prod', { name: 'movable', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.clock.advance(2_000);
    expect(h.metric('UnmovableService')).toEqual([1]);
    expect(callsOf(h, 'ecs', 'DescribeServices').map((c) => c.input.services)).toEqual([['movable', 'pinned']]);
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 20 * MINUTE, stepMs: 10_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'ABANDON', completedBy: 'api' });
    // The pinned tasks never moved: they ran until the instance itself was terminated.
    const pinned = h.sim.ecs.tasks((t) => t.group === 'service:pinned' && t.containerInstanceArn === drained.arn);
    expect(pinned.map((t) => t.stopCode)).toEqual(['TerminationNotice', 'TerminationNotice']);
    for (const t of pinned) expect(t.stoppedAt!).toBeGreaterThanOrEqual(action!.completedAt!);
    // Said once per drain, not at every check.
    expect(h.metric('UnmovableService')).toEqual([1]);
    expect(h.metric('DrainTimedOut')).toEqual([1]);
  });
});

describe('drain: standalone and daemon tasks', () => {
  const scenario = async (policy: 'wait' | 'stop-after' | 'ignore') => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600, standaloneTasks: { policy, stopAfterSeconds: 120 } } });
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('job', { runSeconds: 1800 });
    const job = world.services.runStandalone(drained.arn, 'job');
    world.services.addService('prod', { name: 'agent', taskDefinition: 'api', schedulingStrategy: 'DAEMON' });
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await sim.clock.advance(10_000);
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 45 * MINUTE, stepMs: 10_000 });
    const daemonOnInstance = sim.ecs.tasks((t) => t.group === 'service:agent' && t.containerInstanceArn === drained.arn)[0]!;
    return { action: action!, job, drained, daemonOnInstance, servicesStopped: stoppedAtOf(h, drained.arn, (g) => g === 'service:api') };
  };

  it('wait: completes once the standalone task has ended by itself; the daemon task does not count', async () => {
    const { action, job, daemonOnInstance } = await scenario('wait');
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(job.stopCode).toBe('EssentialContainerExited');
    expect(action.completedAt!).toBeGreaterThanOrEqual(job.stoppedAt!);
    expect(daemonOnInstance.lastStatus).toBe('STOPPED'); // only once the instance was terminated
    expect(daemonOnInstance.stoppedAt!).toBeGreaterThanOrEqual(action.completedAt!);
    expect(callsOf(h, 'ecs', 'StopTask')).toHaveLength(0);
  });

  it('stop-after: stops the standalone task after stopAfterSeconds with a reason naming ecs-caretaker, then completes', async () => {
    const { action, job } = await scenario('stop-after');
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    const stops = callsOf(h, 'ecs', 'StopTask');
    expect(stops).toHaveLength(1);
    expect(stops[0]!.input.task).toBe(job.arn);
    expect(stops[0]!.input.reason).toMatch(/^ecs-caretaker drain: /);
    expect(stops[0]!.at - action.startedAt).toBeGreaterThanOrEqual(120_000);
    expect(stops[0]!.at - action.startedAt).toBeLessThanOrEqual(120_000 + MINUTE);
    expect(job.stopCode).toBe('UserInitiated');
    expect(action.completedAt!).toBeGreaterThanOrEqual(job.stoppedAt!);
    expect(action.completedAt! - action.startedAt).toBeLessThan(5 * MINUTE);
  });

  it('ignore: completes when the service tasks are STOPPED, with the standalone and daemon tasks still running', async () => {
    const { action, job, servicesStopped } = await scenario('ignore');
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(action.completedAt!).toBeGreaterThanOrEqual(servicesStopped);
    expect(action.completedAt! - servicesStopped).toBeLessThanOrEqual(h.sim.bus.delayMs);
    expect(job.stopCode).toBe('TerminationNotice');
    expect(callsOf(h, 'ecs', 'StopTask')).toHaveLength(0);
  });
});

describe('drain: a lifecycle action that is no longer active', () => {
  it('closes the record when Complete answers "No active Lifecycle Action found", and calls no more', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 3600 } });
    const { drained } = standardWorld(h);
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    h.sim.ecs.defineTaskDefinition('job', { runSeconds: 240 });
    h.world.services.runStandalone(drained.arn, 'job');
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.clock.advance(30_000);
    // Someone completes our action by hand while the drain waits for the job.
    const other = new AutoScalingClient({ endpoint: h.sim.endpoint, region: h.sim.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await other.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'prod-asg',
        LifecycleHookName: action!.hookName,
        InstanceId: 'i-0d7a1e',
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    other.destroy();
    h.dropWhen((e) => e['detail-type'] === 'ECS Container Instance State Change' && e.detail.status === 'INACTIVE');
    await h.sim.clock.advance(30 * MINUTE);

    const ours = h.world.autoscaling.completeCalls.slice(1);
    expect(ours.map((c) => c.accepted)).toEqual([false]);
    expect(h.metric('DrainActionGone')).toEqual([1]);
    expect(await h.openRecords()).toEqual([]);
    expect(callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat').filter((c) => c.at > ours[0]!.at)).toHaveLength(0);
  });

  it('closes the record when a heartbeat finds the action gone', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 3600 } });
    const { drained } = standardWorld(h, { heartbeatTimeoutSeconds: 70 });
    h.world.services.runStandalone(drained.arn, 'forever');
    // Only the tick looks at this action again: no ECS event tells of the instance's end.
    h.dropWhen((e) => e.source === 'aws.ecs');
    // Nor does Auto Scaling's list: the record's own heartbeat is what finds the action gone.
    h.sim.faults.set({ services: ['autoscaling'], ops: ['DescribeAutoScalingGroups'], serverError: 1 });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.clock.advance(10 * MINUTE);
    // The hook was changed to 70 s behind our back: it timed out 70 s after the heartbeat that proved
    // the action when its event came, before the record's next one (due at 80 s, a third of 240 s).
    expect(action).toMatchObject({ completedBy: 'heartbeat-timeout' });
    expect(callsOf(h, 'autoscaling', 'RecordLifecycleActionHeartbeat').map((c) => c.error)).toEqual([undefined, 'ValidationError']);
    expect(h.metric('DrainActionGone')).toEqual([1]);
    expect(await h.openRecords()).toEqual([]);
  });
});

describe('drain: throttling', () => {
  it('drains correctly with 20% of ECS and Auto Scaling calls throttled', async () => {
    h = await startHarness({ seed: 3 });
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 2 }] });
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    world.services.addService('prod', { name: 'agent', taskDefinition: 'api', schedulingStrategy: 'DAEMON' });
    await sim.clock.advance(10_000);
    sim.faults.set({ throttle: 0.2, services: ['ecs', 'autoscaling'] });
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 15 * MINUTE });
    sim.faults.clear();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAtOf(h, drained.arn, (g) => g !== 'service:agent'));
    const throttled = sim.calls.filter((c) => c.error === 'ThrottlingException');
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.length / sim.calls.filter((c) => c.service !== 'dynamodb').length).toBeGreaterThan(0.05);
    expect(world.autoscaling.completeCalls.filter((c) => c.accepted)).toHaveLength(1);
    expect(sim.ecs.containerInstance(drained.arn)?.status).toBe('INACTIVE');
    expect(await h.openRecords()).toEqual([]);
  });
});
