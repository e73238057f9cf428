/**
 * The simulator finds an instance's tasks and a group's tasks through indexes
 * (a mass scale-in creates tens of thousands): what they answer must stay what
 * a scan of every task answers, in the same order, stopped tasks included.
 */
import { ListTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../sim/index.ts';
import { ecsClient } from './clients.ts';

let sim: Sim;
let ecs: ECSClient;

beforeAll(async () => {
  sim = await startSim({ start: new Date('2026-03-01T12:00:00Z'), seed: 7 });
  ecs = ecsClient(sim);
  sim.ecs.addCluster('prod');
  sim.ecs.addCluster('test');
  for (const id of ['i-0aaa', 'i-0bbb', 'i-0ccc']) sim.ecs.addContainerInstance('prod', { ec2InstanceId: id, cpu: 4096, memory: 8192 });
  sim.ecs.addContainerInstance('test', { ec2InstanceId: 'i-0ddd', cpu: 4096, memory: 8192 });
  sim.ecs.defineTaskDefinition('web', { cpu: 8, memory: 16 });
  sim.ecs.defineTaskDefinition('job', { cpu: 8, memory: 16 });
});
afterAll(async () => {
  ecs?.destroy();
  await sim?.close();
});

const listAll = async (input: { cluster: string; containerInstance?: string; desiredStatus?: 'RUNNING' | 'STOPPED' }) => {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(new ListTasksCommand({ ...input, maxResults: 100, nextToken }));
    arns.push(...(out.taskArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
};

describe('task indexes', () => {
  it('ListTasks on one instance, runningCount and a group answer what a scan of every task answers', async () => {
    // Interleaved: each RunTask places across the instances, two families, two groups, and a task in another cluster.
    for (let n = 0; n < 40; n++) {
      await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: n % 3 ? 'web' : 'job', count: 10, group: n % 2 ? 'blue' : 'green' }));
      if (n % 10 === 0) await ecs.send(new RunTaskCommand({ cluster: 'test', taskDefinition: 'web', group: 'blue' }));
    }
    await sim.clock.advance(10_000);
    const all = sim.ecs.tasks((t) => t.clusterName === 'prod');
    expect(all).toHaveLength(400);
    // Some stop: they leave RUNNING listings and the counts, and stay in the STOPPED listing.
    for (const task of all.filter((_, i) => i % 7 === 0)) await ecs.send(new StopTaskCommand({ cluster: 'prod', task: task.arn }));
    await sim.clock.advance(60_000);

    for (const instance of sim.ecs.containerInstances('prod')) {
      const scan = (desired: string) => sim.ecs.tasks((t) => t.containerInstanceArn === instance.arn && t.desiredStatus === desired).map((t) => t.arn);
      expect(scan('RUNNING').length).toBeGreaterThan(100); // more than one page
      expect(await listAll({ cluster: 'prod', containerInstance: instance.arn, desiredStatus: 'RUNNING' })).toEqual(scan('RUNNING'));
      expect(await listAll({ cluster: 'prod', containerInstance: instance.arn, desiredStatus: 'STOPPED' })).toEqual(scan('STOPPED'));
      expect(sim.ecs.runningCount(instance)).toBe(sim.ecs.tasks((t) => t.containerInstanceArn === instance.arn && t.lastStatus !== 'STOPPED').length);
      expect(sim.ecs.tasks({ containerInstance: instance.ec2InstanceId }).map((t) => t.arn)).toEqual(
        sim.ecs.tasks((t) => t.containerInstanceArn === instance.arn).map((t) => t.arn),
      );
    }
    expect(sim.ecs.tasksOfGroup('prod', 'blue').map((t) => t.arn)).toEqual(all.filter((t) => t.group === 'blue').map((t) => t.arn));
    expect(sim.ecs.tasksOfGroup('test', 'blue')).toHaveLength(4);
    expect(sim.ecs.tasksOfGroup('prod', 'nobody')).toEqual([]);
  });
});
