/**
 * Event delivery: on the simulated clock, after a delay; at-least-once and
 * unordered when delivery faults are on, reproducibly for a seed.
 */
import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../sim/index.ts';
import { ecsClient } from './clients.ts';

async function withSim<T>(seed: number, body: (sim: Sim) => Promise<T>): Promise<T> {
  const sim = await startSim({ seed, start: new Date('2026-07-01T00:00:00Z') });
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-1', cpu: 4096, memory: 8192 });
  sim.ecs.defineTaskDefinition('job', { runSeconds: 10 });
  try {
    return await body(sim);
  } finally {
    await sim.close();
  }
}

async function runJobs(sim: Sim, count: number): Promise<void> {
  const ecs = ecsClient(sim);
  await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'job', count }));
  ecs.destroy();
}

/** Which (task, version, copy) arrived, in arrival order. */
async function faultyDelivery(seed: number) {
  return withSim(seed, async (sim) => {
    sim.faults.events({ duplicate: 0.4, maxCopies: 3, reorderWindowMs: 5_000, lose: 0.15 });
    sim.bus.subscribe(
      'target',
      () => true,
      async () => 'ok',
    );
    await runJobs(sim, 5);
    await sim.clock.advance(120_000);
    return {
      arrivals: sim.bus.delivered.map((d) => `${d.event.detail.taskArn.slice(-6)}:v${d.event.detail.version}#${d.copy}`),
      delivered: sim.bus.delivered,
      lost: sim.bus.lost.length,
      emitted: sim.bus.emitted.length,
    };
  });
}

describe('event bus', () => {
  it('delivers after a delay on the clock, in order, exactly once without faults; drain delivers without moving time', async () => {
    await withSim(1, async (sim) => {
      const seen: number[] = [];
      sim.bus.subscribe(
        't',
        (e) => e['detail-type'] === 'ECS Task State Change',
        async (e) => seen.push(e.detail.version),
      );
      await runJobs(sim, 1);
      expect(seen).toEqual([]);
      await sim.clock.advance(sim.bus.delayMs);
      expect(seen).toEqual([1]);
      await sim.clock.advance(60_000);
      expect(seen).toEqual([1, 2, 3, 4]);

      await runJobs(sim, 1);
      const before = sim.clock.now();
      await sim.bus.drain();
      expect(seen).toEqual([1, 2, 3, 4, 1]);
      expect(sim.clock.now()).toBe(before);
    });
  });

  it('records handler failures and keeps delivering', async () => {
    await withSim(1, async (sim) => {
      sim.bus.subscribe(
        'flaky',
        () => true,
        async (e) => {
          if (e.detail.lastStatus === 'RUNNING') throw new Error('boom');
          return e.detail.lastStatus;
        },
      );
      await runJobs(sim, 1);
      await sim.clock.advance(60_000);
      expect(sim.bus.delivered.map((d) => d.result ?? 'error')).toEqual(['PENDING', 'error', 'STOPPING', 'STOPPED']);
      expect(sim.bus.failures).toHaveLength(1);
      expect(sim.bus.failures[0]!.error).toEqual(new Error('boom'));
    });
  });

  it('matches EventBridge patterns through functions/shared/event-pattern.ts', async () => {
    await withSim(1, async (sim) => {
      const stopped: string[] = [];
      sim.bus.subscribePattern('stopped', { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['STOPPED'] } }, async (e) =>
        stopped.push(e.detail.taskArn),
      );
      await runJobs(sim, 2);
      await sim.clock.advance(60_000);
      expect(stopped).toHaveLength(2);
    });
  });

  it('duplicates, reorders and loses deliveries as the seed dictates, the same way every run', async () => {
    const a = await faultyDelivery(11);
    expect(a.lost).toBeGreaterThan(0);
    expect(a.delivered.some((d) => d.copy > 1)).toBe(true);
    // A duplicate is the same event (same id), as EventBridge redelivers it.
    const dup = a.delivered.find((d) => d.copy === 2)!;
    expect(a.delivered.filter((d) => d.event.id === dup.event.id).length).toBeGreaterThan(1);
    // Some task's events arrive out of version order.
    const lastVersion = new Map<string, number>();
    let reordered = false;
    for (const d of a.delivered) {
      const arn = d.event.detail.taskArn;
      if ((lastVersion.get(arn) ?? 0) > d.event.detail.version) reordered = true;
      lastVersion.set(arn, d.event.detail.version);
    }
    expect(reordered).toBe(true);

    expect((await faultyDelivery(11)).arrivals).toEqual(a.arrivals);
    expect((await faultyDelivery(12)).arrivals).not.toEqual(a.arrivals);
  });
});
