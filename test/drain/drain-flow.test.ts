/**
 * The drain function's logic against the simulator (ECS, Auto Scaling,
 * EventBridge delivery) and dynalite: the main paths of a drain.
 */
import { DescribeContainerInstancesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TickResult } from '../../functions/drain/context.ts';
import { callsOf, runUntil, standardWorld, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const acceptedCompletes = (h: Harness) => h.world.autoscaling.completeCalls.filter((c) => c.accepted);
const stoppedAtOf = (h: Harness, instanceArn: string, filter: (group: string) => boolean = () => true) =>
  Math.max(
    ...h.sim.ecs
      .tasks({ containerInstance: instanceArn })
      .filter((t) => filter(t.group))
      .map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY),
  );

describe('drain: three services on the instance', () => {
  it('completes only after the last task is STOPPED, never while one is DEACTIVATING with a running count of 0', async () => {
    h = await startHarness();
    const { drained, spare } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    sim.ecs.defineTaskDefinition('api');
    sim.ecs.defineTaskDefinition('worker');
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 1 }] });
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    world.services.addService('prod', { name: 'worker', taskDefinition: 'worker', on: [{ instance: drained.arn, count: 1 }] });
    await sim.clock.advance(10_000);

    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    const ecs = new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    let sawDeactivatingAtZero = false;
    for (let i = 0; i < 120 && action!.status === 'pending'; i++) {
      await sim.clock.advance(500);
      const onInstance = sim.ecs.tasks({ containerInstance: drained.arn });
      const onlyDeactivatingLeft =
        onInstance.some((t) => t.lastStatus === 'DEACTIVATING') && onInstance.every((t) => t.lastStatus === 'DEACTIVATING' || t.lastStatus === 'STOPPED');
      if (onlyDeactivatingLeft && !sawDeactivatingAtZero) {
        const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [drained.arn] }));
        if (described.containerInstances?.[0]?.runningTasksCount === 0) {
          sawDeactivatingAtZero = true;
          // Force a done check right now: it must see the DEACTIVATING task and wait.
          const tick = (await h.tick()) as TickResult;
          expect(tick.results.map((r) => r.outcome)).toEqual(['waiting']);
          expect(action!.status).toBe('pending');
        }
      }
    }
    ecs.destroy();
    expect(sawDeactivatingAtZero).toBe(true);
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    const completedAt = action!.completedAt!;
    expect(completedAt).toBeGreaterThanOrEqual(stoppedAtOf(h, drained.arn));
    // Event-driven: completed within one delivery of the last STOPPED event, not at the next tick.
    expect(completedAt - stoppedAtOf(h, drained.arn)).toBeLessThanOrEqual(sim.bus.delayMs);
    expect(acceptedCompletes(h)).toHaveLength(1);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(1);
    expect(sim.ecs.tasks({ containerInstance: spare.arn }).filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(3);
    expect(h.metric('DrainCompleted')).toEqual([1]);
    expect(h.metric('DrainDurationSeconds')[0]).toBeGreaterThan(0);
    expect(h.metric('ApiCallsPerDrain')[0]).toBeGreaterThan(0);
    expect(await h.openRecords()).toEqual([]);
  });
});

describe('drain: the done check at scale', () => {
  it('pages through 250 tasks, describes them 100 at a time, and completes only when all are STOPPED', async () => {
    h = await startHarness();
    const { drained, spare } = standardWorld(h, { drainCpu: 4096, drainMemory: 8192, spareCpu: 4096, spareMemory: 8192 });
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('tiny', { cpu: 8, memory: 16 });
    world.services.addService('prod', { name: 'tiny', taskDefinition: 'tiny', on: [{ instance: drained.arn, count: 250 }] });
    await sim.clock.advance(10_000);

    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await sim.clock.advance(1_000); // the lifecycle event is delivered and the first check runs
    const listed = callsOf(h, 'ecs', 'ListTasks');
    const described = callsOf(h, 'ecs', 'DescribeTasks');
    // 250 RUNNING-desired tasks: three pages; nothing desired STOPPED yet: one page.
    expect(listed.map((c) => `${c.input.desiredStatus}:${c.input.nextToken ? 'next' : 'first'}`)).toEqual([
      'RUNNING:first',
      'RUNNING:next',
      'RUNNING:next',
      'STOPPED:first',
    ]);
    expect(described.map((c) => c.input.tasks.length)).toEqual([100, 100, 50]);
    expect(action!.status).toBe('pending');

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAtOf(h, drained.arn));
    for (const call of callsOf(h, 'ecs', 'DescribeTasks')) expect(call.input.tasks.length).toBeLessThanOrEqual(100);
    for (const call of callsOf(h, 'ecs', 'ListTasks')) expect(call.input.maxResults).toBeLessThanOrEqual(100);
    expect(sim.ecs.tasks({ containerInstance: spare.arn }).filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(250);
    // Event-driven: the STOPPED events cost DynamoDB writes, not done checks; a handful of checks ran in all.
    const checks = callsOf(h, 'ecs', 'ListTasks').filter((c) => !c.input.nextToken && c.input.desiredStatus === 'RUNNING').length;
    expect(checks).toBeLessThanOrEqual(4);
  });
});

describe('drain: nothing to drain', () => {
  it('continues at once, in the invocation of the lifecycle event, when no configured cluster has the instance', async () => {
    h = await startHarness();
    standardWorld(h);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0123456789abcdef0');
    await h.sim.bus.drain();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(h.invocations.map((i) => [i.trigger, (i.result as { outcome: string }).outcome])).toEqual([['lifecycle', 'not-registered']]);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(0);
    expect(h.metric('DrainNotRegistered')).toEqual([1]);
  });

  it('stands down when the capacity provider of the ASG has managed draining enabled', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    const group = h.world.autoscaling.groups.get('prod-asg')!;
    h.world.services.addCapacityProvider({
      name: 'other',
      autoScalingGroupArn: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:1:autoScalingGroupName/other-asg',
      managedDraining: 'DISABLED',
    });
    h.world.services.addCapacityProvider({ name: 'prod-cp', autoScalingGroupArn: group.arn, managedDraining: 'ENABLED' });
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.sim.bus.drain();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(0);
    expect(callsOf(h, 'ecs', 'ListTasks')).toHaveLength(0);
    expect(h.metric('DrainStoodDown')).toEqual([1]);
  });

  it('drains an instance registered in the second of two clusters', async () => {
    h = await startHarness({
      clusters: [
        { name: 'blue', asgs: ['blue-asg'] },
        { name: 'prod', asgs: ['prod-asg'] },
      ],
    });
    h.sim.ecs.addCluster('blue');
    h.sim.ecs.addContainerInstance('blue', { ec2InstanceId: 'i-0b1e' });
    const { drained } = standardWorld(h);
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 5 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(callsOf(h, 'ecs', 'ListContainerInstances').map((c) => [c.input.cluster, c.input.filter])).toEqual([
      ['blue', 'ec2InstanceId == i-0d7a1e'],
      ['prod', 'ec2InstanceId == i-0d7a1e'],
    ]);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState').map((c) => c.input.cluster)).toEqual(['prod']);
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAtOf(h, drained.arn));
  });
});

describe('drain: at-least-once and out-of-order delivery', () => {
  it('creates one record, sets DRAINING once and completes once when the lifecycle event arrives three times at once', async () => {
    h = await startHarness({ wire: false });
    const { drained } = standardWorld(h);
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    const event = h.sim.bus.emitted.find((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')!;
    const outcomes = await Promise.all([h.invoke(event), h.invoke(structuredClone(event)), h.invoke(structuredClone(event))]);
    expect(outcomes.map((o) => (o as { outcome: string }).outcome).sort()).toEqual(['duplicate', 'duplicate', 'waiting']);
    expect(await h.openRecords()).toHaveLength(1);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(1);
    expect(h.metric('DuplicateDelivery')).toEqual([1, 1]);

    for (let i = 0; i < 30 && action!.status === 'pending'; i++) {
      await h.sim.clock.advance(10_000);
      await Promise.all([h.tick(), h.invoke(structuredClone(event))]);
    }
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(h.world.autoscaling.completeCalls).toHaveLength(1);
    expect(callsOf(h, 'ecs', 'UpdateContainerInstancesState')).toHaveLength(1);
  });

  it('never completes on an older event delivered after a newer one, nor before the API shows every task STOPPED', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 3 }] });
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 3 }] });
    await sim.clock.advance(10_000);
    // Every delivery may be duplicated and overtaken by later events for up to 20 s.
    sim.faults.events({ duplicate: 0.5, reorderWindowMs: 20_000 });
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAtOf(h, drained.arn));
    expect(world.autoscaling.completeCalls).toHaveLength(1);
    // The scenario did deliver older container-instance events after newer ones, and they changed nothing.
    const ciDeliveries = sim.bus.delivered.filter((d) => d.subscriber === 'drain-containerInstance' && d.event.detail.containerInstanceArn === drained.arn);
    const overtaken = ciDeliveries.some((d, i) => ciDeliveries.slice(0, i).some((earlier) => earlier.event.detail.version > d.event.detail.version));
    expect(overtaken).toBe(true);
  });

  it('ignores a stale container instance event and a STOPPED event the API does not confirm', async () => {
    h = await startHarness({ wire: false });
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    world.services.addService('prod', { name: 'web', taskDefinition: 'web', on: [{ instance: drained.arn, count: 2 }] });
    world.services.addService('prod', {
      name: 'stuck',
      taskDefinition: 'api',
      minimumHealthyPercent: 100,
      maximumPercent: 100,
      on: [{ instance: drained.arn, count: 1 }],
    });
    await sim.clock.advance(10_000);
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await h.invoke(sim.bus.emitted.find((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')!);

    const ciEvents = () =>
      sim.bus.emitted.filter((e) => e['detail-type'] === 'ECS Container Instance State Change' && e.detail.containerInstanceArn === drained.arn);
    await sim.clock.advance(15_000);
    const [older, newer] = [ciEvents()[0]!, ciEvents().at(-1)!];
    expect(newer.detail.version).toBeGreaterThan(older.detail.version);
    await h.invoke(newer);
    const calls = sim.calls.length;
    expect(await h.invoke(older)).toMatchObject({ outcome: 'stale' });
    expect(sim.calls.length).toBe(calls);

    // Task counts, when an event carries them, are a hint to check, never a verdict.
    const withCounts = (version: number, runningTasksCount: number) => ({
      ...newer,
      detail: { ...newer.detail, version, runningTasksCount, pendingTasksCount: 0 },
    });
    const before = sim.calls.length;
    expect(await h.invoke(withCounts(1000, 1))).toMatchObject({ outcome: 'waiting' });
    expect(sim.calls.length).toBe(before);
    expect(await h.invoke(withCounts(1001, 0))).toMatchObject({ outcome: 'waiting', blocking: 1 });
    expect(sim.calls.length).toBeGreaterThan(before);
    expect(action!.status).toBe('pending');

    // STOPPED events for every task, including one ECS still shows RUNNING (a forged event): checked, not believed.
    const web = sim.ecs.tasks({ containerInstance: drained.arn });
    const forged = (taskArn: string, version: number) => ({
      version: '0',
      id: `forged-${version}`,
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: sim.account,
      time: new Date(sim.clock.now()).toISOString(),
      region: sim.region,
      resources: [taskArn],
      detail: {
        taskArn,
        clusterArn: drained.arn.replace(/container-instance\/.*/, 'cluster/prod'),
        containerInstanceArn: drained.arn,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        version,
        group: 'service:web',
      },
    });
    const checksBefore = callsOf(h, 'ecs', 'ListTasks').length;
    const outcomes = [];
    for (const task of web) outcomes.push(await h.invoke(forged(task.arn, 99)));
    expect(web.map((t) => t.lastStatus).sort()).toEqual(['RUNNING', 'STOPPED', 'STOPPED']);
    expect(outcomes.map((o) => (o as { outcome: string }).outcome)).toEqual(['waiting', 'waiting', 'waiting']);
    // Checked: the task still listed as desired RUNNING blocks, whatever the event claimed.
    expect(callsOf(h, 'ecs', 'ListTasks').length).toBeGreaterThan(checksBefore);
    expect(action!.status).toBe('pending');
  });

  it('is completed by the next tick when every STOPPED and container instance event is lost', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    h.dropWhen((e) => e.source === 'aws.ecs');
    h.world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 2 }] });
    await h.sim.clock.advance(10_000);
    const [action] = h.world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 5 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    const lastStopped = stoppedAtOf(h, drained.arn);
    expect(action!.completedAt! - lastStopped).toBeGreaterThan(0);
    expect(action!.completedAt! - lastStopped).toBeLessThanOrEqual(60_000);
    const completing = h.invocations.find((i) => (i.result as TickResult | undefined)?.results?.some((r) => r.outcome === 'drained'));
    expect(completing?.trigger).toBe('tick');
  });
});

describe('drain: other hooks and other groups', () => {
  it('leaves another hook on the same group and an unconfigured group alone', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    const { world, sim } = h;
    world.autoscaling.putLifecycleHook('prod-asg', { name: 'someone-elses-hook', heartbeatTimeoutSeconds: 3600, defaultResult: 'ABANDON' });
    world.autoscaling.addGroup('other-asg');
    world.autoscaling.putLifecycleHook('other-asg', { name: h.config.drain.hookName, heartbeatTimeoutSeconds: 3600, defaultResult: 'ABANDON' });
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    await sim.clock.advance(10_000);

    const actions = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    const [foreign] = world.autoscaling.terminate('other-asg', 'i-0f0f0f');
    await runUntil(h, () => actions.find((a) => a.hookName === h.config.drain.hookName)!.status !== 'pending', { maxMs: 5 * 60_000 });
    await sim.clock.advance(5 * 60_000);
    const ours = actions.find((a) => a.hookName === h.config.drain.hookName)!;
    const theirs = actions.find((a) => a.hookName === 'someone-elses-hook')!;
    expect(ours).toMatchObject({ status: 'completed', completedBy: 'api' });
    expect(theirs.status).toBe('pending');
    expect(foreign!.status).toBe('pending');
    expect(world.autoscaling.completeCalls.map((c) => [c.input.AutoScalingGroupName, c.input.LifecycleHookName])).toEqual([
      ['prod-asg', h.config.drain.hookName],
    ]);
    // The rule does not even deliver them; the parser ignores them when they come anyway.
    const events = sim.bus.emitted.filter(
      (e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action' && e.detail.LifecycleActionToken !== ours.token,
    );
    expect(sim.bus.delivered.filter((d) => events.includes(d.event))).toEqual([]);
    for (const event of events) expect(await h.invoke(event)).toEqual({ outcome: 'not-draining' });
    expect(await h.openRecords()).toEqual([]);
  });
});
