/**
 * What a done check costs, counted in the simulator's call log: the first
 * check of a drain describes every task once; every later check lists the
 * tasks (pages of 100) and describes only those whose state may have changed,
 * which brings it to ⌈N/100⌉ + 3 calls at most for N tasks on the instance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runUntil, standardWorld, startHarness, type Harness } from './harness.ts';
import type { CallRecord } from '../../sim/index.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const CHECK_OPS = new Set(['ListTasks', 'DescribeTasks', 'DescribeContainerInstances', 'ListServices']);
const taskId = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

/** The done checks of one drain: its check calls grouped by the instant of the invocation that made them (time stands still in one). */
function checksOf(h: Harness): CallRecord[][] {
  const byInstant = new Map<number, CallRecord[]>();
  for (const call of h.sim.calls) {
    if (call.service !== 'ecs' || !CHECK_OPS.has(call.op)) continue;
    byInstant.set(call.at, [...(byInstant.get(call.at) ?? []), call]);
  }
  return [...byInstant.values()].filter((calls) => calls.some((c) => c.op === 'ListTasks'));
}

describe('drain: the cost of a done check', () => {
  it('lists every check but describes only the tasks not known STOPPED, within ⌈N/100⌉ + 3 calls after the first', async () => {
    h = await startHarness({ drain: { heartbeatTimeoutSeconds: 300 } });
    const big = { drainCpu: 8192, drainMemory: 16384, spareCpu: 8192, spareMemory: 16384 };
    const { drained } = standardWorld(h, big);
    const { sim, world } = h;
    // Every ECS event lost: the reconcile tick does every check, once a minute.
    h.dropWhen((e) => e.source === 'aws.ecs');
    sim.ecs.defineTaskDefinition('tiny', { cpu: 8, memory: 16 });
    // 100 standalone jobs (policy wait) keep the drain open for 12 minutes; 150 service tasks move away at once.
    sim.ecs.defineTaskDefinition('job', { cpu: 8, memory: 16, runSeconds: 720 });
    for (let i = 0; i < 100; i++) world.services.runStandalone(drained.arn, 'job');
    world.services.addService('prod', {
      name: 'mover',
      taskDefinition: 'tiny',
      minimumHealthyPercent: 50,
      maximumPercent: 200,
      on: [{ instance: drained.arn, count: 150 }],
    });
    world.services.addService('prod', { name: 'agent', taskDefinition: 'tiny', schedulingStrategy: 'DAEMON' });
    await sim.clock.advance(10_000);
    const n = sim.ecs.tasks({ containerInstance: drained.arn }).length;
    expect(n).toBe(251);

    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');
    await runUntil(h, () => action!.status !== 'pending', { maxMs: 20 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    const jobs = sim.ecs.tasks({ containerInstance: drained.arn }).filter((t) => t.group.startsWith('family:'));
    expect(action!.completedAt).toBeGreaterThanOrEqual(Math.max(...jobs.map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY)));

    const checks = checksOf(h);
    // While ECS counts the jobs on the instance, the tick checks only every FULL_CHECK_EVERY_MS (triage.ts): the first
    // check, two periodic ones, the completing one.
    expect(checks.length).toBe(4);
    const [first, ...later] = checks;
    // The first check lists both desired statuses (the instance is DRAINING already: half of the movers are being
    // stopped) and describes every task once, 100 at a time.
    expect(first!.filter((c) => c.op === 'ListTasks').map((c) => c.input.desiredStatus)).toEqual(['RUNNING', 'RUNNING', 'STOPPED']);
    expect(first!.filter((c) => c.op === 'DescribeTasks').map((c) => c.input.tasks.length)).toEqual([100, 100, 51]);
    const budget = Math.ceil(n / 100) + 3;
    for (const check of later) expect(check.length, check.map((c) => c.op).join(',')).toBeLessThanOrEqual(budget);
    // ListServices (DAEMON) once, in the first check: what it said is in the record.
    expect(checks.flat().filter((c) => c.op === 'ListServices')).toHaveLength(1);

    // A task described as STOPPED is never described again.
    const stoppedAt = new Map(sim.ecs.tasks({ containerInstance: drained.arn }).map((t) => [taskId(t.arn), t.stoppedAt]));
    const knownStoppedAt = new Map<string, number>();
    for (const call of checks.flat().filter((c) => c.op === 'DescribeTasks')) {
      for (const ref of call.input.tasks as string[]) {
        const id = taskId(ref);
        expect(knownStoppedAt.has(id), `task ${id} described again after it was seen STOPPED`).toBe(false);
        const at = stoppedAt.get(id);
        if (at !== undefined && at <= call.at) knownStoppedAt.set(id, call.at);
      }
    }
    // While the jobs run: 100 jobs and the daemon task desired RUNNING (2 pages), nothing to describe.
    const steady = later.at(-2)!;
    expect(steady.map((c) => `${c.op}${c.input.desiredStatus ? `:${c.input.desiredStatus}` : ''}`)).toEqual([
      'DescribeContainerInstances',
      'ListTasks:RUNNING',
      'ListTasks:RUNNING',
    ]);
    // The completing check: the jobs are desired RUNNING no more, so they are described (STOPPED); only then are the
    // tasks desired STOPPED listed, all known STOPPED already: nothing more to describe.
    const last = later.at(-1)!;
    expect(
      last.map((c) => `${c.op}${c.input.desiredStatus ? `:${c.input.desiredStatus}` : ''}${c.op === 'DescribeTasks' ? `:${c.input.tasks.length}` : ''}`),
    ).toEqual(['DescribeContainerInstances', 'ListTasks:RUNNING', 'DescribeTasks:100', 'ListTasks:STOPPED', 'ListTasks:STOPPED', 'ListTasks:STOPPED']);
  });
});
