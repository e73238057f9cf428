/**
 * The reconcile tick with many drains open at once: heartbeats before any ECS
 * call, the container instances described 100 per call, and a done check only
 * for the drains that may be done.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TickResult } from '../../functions/drain/context.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const DRAINS = 150;
const ec2Id = (n: number) => `i-0${(0xe000 + n).toString(16).padStart(16, '0')}`;

describe('drain: the tick with 150 drains open', () => {
  it('heartbeats first, then describes the instances in batches of 100, and checks only the drain that may be done', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300 } });
    const { sim, world } = h;
    sim.ecs.addCluster('prod');
    world.autoscaling.addGroup('prod-asg');
    world.autoscaling.putLifecycleHook('prod-asg', { name: h.config.drain.hookName, heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    sim.ecs.defineTaskDefinition('pinned', { cpu: 8, memory: 16 });
    const instances = Array.from({ length: DRAINS }, (_, n) => sim.ecs.addContainerInstance('prod', { ec2InstanceId: ec2Id(n), cpu: 1024, memory: 2048 }));
    // Tasks that cannot move (min = max = 100 %): every drain stays open, waiting.
    world.services.addService('prod', {
      name: 'pinned',
      taskDefinition: 'pinned',
      minimumHealthyPercent: 100,
      maximumPercent: 100,
      on: instances.map((i) => ({ instance: i.arn, count: 2 })),
    });
    await sim.clock.advance(10_000);
    const actions = instances.map((i) => world.autoscaling.terminate('prod-asg', i.ec2InstanceId)[0]!);
    await sim.clock.advance(2 * 60_000);
    expect(await h.openRecords()).toHaveLength(DRAINS);

    // One instance loses its tasks behind the drain's back (every ECS event lost): only the tick can find it done.
    h.dropWhen((e) => e.source === 'aws.ecs');
    for (const task of sim.ecs.tasks({ containerInstance: instances[7]!.arn })) sim.ecs.lifecycle.stop(task, { stopCode: 'UserInitiated', reason: 'test' });
    const stoppedAt = sim.clock.now();
    await sim.clock.advance(3 * 60_000);

    // The first tick after that which owed every drain a heartbeat (HeartbeatTimeout / 3 = 100 s after the last).
    const ticks = h.invocations.filter((i) => i.trigger === 'tick' && i.at > stoppedAt);
    // Time stands still within one invocation: a tick's calls are the ones at its instant.
    const callsOf = (at: number) => sim.calls.filter((c) => c.at === at);
    const ecsOps = (at: number) => callsOf(at).filter((c) => c.service === 'ecs');

    // The first tick after it: two batches describe the 150 instances; only the emptied one is checked, and completes.
    const [first] = ticks;
    expect(ecsOps(first!.at).filter((c) => c.op === 'DescribeContainerInstances')[0]!.input.containerInstances).toHaveLength(100);
    const checked = ecsOps(first!.at)
      .filter((c) => c.op === 'ListTasks')
      .map((c) => c.input.containerInstance);
    expect(new Set(checked)).toEqual(new Set([instances[7]!.arn]));
    expect((first!.result as TickResult).results.filter((r) => r.outcome === 'drained')).toHaveLength(1);
    expect(actions[7]).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(actions.filter((a) => a.status === 'pending')).toHaveLength(DRAINS - 1);

    // A tick that owes every open drain a heartbeat (HeartbeatTimeout / 3 = 100 s after the last) sends them all
    // before its first ECS call, then makes only the two batch calls: no drain may be done.
    const beats = ticks.find((i) => (i.result as TickResult).heartbeats === DRAINS - 1);
    expect(beats).toBeDefined();
    expect(beats!.result).toMatchObject({ open: DRAINS - 1, deferred: 0 });
    const calls = callsOf(beats!.at);
    expect(calls.map((c) => c.op).lastIndexOf('RecordLifecycleActionHeartbeat')).toBeLessThan(calls.findIndex((c) => c.service === 'ecs'));
    expect(ecsOps(beats!.at).map((c) => `${c.op}:${c.input.containerInstances?.length}`)).toEqual([
      'DescribeContainerInstances:100',
      'DescribeContainerInstances:49',
    ]);
  });
});
