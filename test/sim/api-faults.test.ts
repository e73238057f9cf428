/**
 * API faults as the SDK sees them: throttling and 5xx are retried by the
 * client's standard retry strategy; the simulator records every attempt.
 */
import { DescribeClustersCommand, type ECSClient, ListTasksCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../sim/index.ts';
import { ecsClient } from './clients.ts';

let sim: Sim;
let ecs: ECSClient;

beforeAll(async () => {
  sim = await startSim({ seed: 7 });
  ecs = ecsClient(sim);
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-1' });
  sim.ecs.defineTaskDefinition('job');
});
afterAll(async () => {
  ecs?.destroy();
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
  sim.calls.length = 0;
});

describe('API faults', () => {
  it('throttles twice, then the SDK’s own retry gets through on the third attempt', async () => {
    sim.faults.failNext('ecs', 'DescribeClusters', 'ThrottlingException', 2);
    const out = await ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }));
    expect(out.clusters![0]!.clusterName).toBe('prod');
    expect(out.$metadata.attempts).toBe(3);
    expect(sim.countCalls('ecs', 'DescribeClusters')).toBe(3);
    expect(sim.calls.map((c) => [c.attempt, c.error])).toEqual([
      [1, 'ThrottlingException'],
      [2, 'ThrottlingException'],
      [3, undefined],
    ]);
  });

  it('answers 5xx as ECS does (ServerException, HTTP 500), which the SDK retries as transient', async () => {
    sim.faults.failNext('ecs', 'ListTasks', 'ServerException');
    const out = await ecs.send(new ListTasksCommand({ cluster: 'prod' }));
    expect(out.$metadata.attempts).toBe(2);

    const once = ecsClient(sim, { maxAttempts: 1 });
    sim.faults.set({ serverError: 1, ops: ['ListTasks'] });
    await expect(once.send(new ListTasksCommand({ cluster: 'prod' }))).rejects.toMatchObject({
      name: 'ServerException',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    // Other operations are untouched by an ops-scoped rule.
    await expect(once.send(new DescribeClustersCommand({ clusters: ['prod'] }))).resolves.toBeDefined();
    once.destroy();
  });

  it('a 5xx after the task started is retried with the same clientToken, so only one task starts', async () => {
    const before = sim.ecs.tasks().length;
    sim.faults.failNext('ecs', 'RunTask', 'ServerException', 1, { afterApply: true });
    const out = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'job' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(sim.ecs.tasks()).toHaveLength(before + 1);
    const [first, second] = sim.calls;
    // The SDK fills clientToken itself (an idempotency token in the ECS model) and keeps it across retries.
    expect(first!.input.clientToken).toBeTypeOf('string');
    expect(second!.input.clientToken).toBe(first!.input.clientToken);
    expect(out.tasks![0]!.taskArn).toBe(sim.ecs.tasks().at(-1)!.arn);
  });

  it('draws random faults from the seed, so the same seed gives the same sequence', async () => {
    const outcomes = async (seed: number) => {
      const other = await startSim({ seed });
      other.ecs.addCluster('prod');
      other.faults.set({ throttle: 0.5 });
      const client = ecsClient(other, { maxAttempts: 1 });
      for (let i = 0; i < 12; i++) await client.send(new ListTasksCommand({ cluster: 'prod' })).catch(() => undefined);
      client.destroy();
      await other.close();
      return other.calls.map((c) => c.error ?? 'ok').join(',');
    };
    const a = await outcomes(42);
    expect(a).toMatch(/ThrottlingException/);
    expect(a).toMatch(/ok/);
    expect(await outcomes(42)).toBe(a);
    expect(await outcomes(43)).not.toBe(a);
  });
});

describe('the Date header', () => {
  const dateOf = async (endpoint: string) =>
    (
      await fetch(endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters', 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      })
    ).headers.get('date');

  it('is the wall clock by default, and the simulated clock with dateHeader sim', async () => {
    const start = new Date('2026-06-01T09:00:00Z');
    const simDated = await startSim({ start, dateHeader: 'sim' });
    try {
      await simDated.clock.advance(90_000);
      expect(await dateOf(simDated.endpoint)).toBe(new Date(start.getTime() + 90_000).toUTCString());
    } finally {
      await simDated.close();
    }
    const wall = Date.parse((await dateOf(sim.endpoint))!);
    expect(Math.abs(wall - Date.now())).toBeLessThan(60_000);
  });
});
