/**
 * The ECS stand-in through the real @aws-sdk/client-ecs: what the functions
 * will see when they run against the simulator.
 */
import {
  DescribeClustersCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../sim/index.ts';
import { ecsClient } from './clients.ts';

let sim: Sim;
let ecs: ECSClient;

beforeAll(async () => {
  sim = await startSim({ start: new Date('2026-03-01T12:00:00Z') });
  ecs = ecsClient(sim);
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0aaa', cpu: 1024, memory: 2048 });
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0bbb', cpu: 1024, memory: 2048 });
  sim.ecs.defineTaskDefinition('web', { cpu: 256, memory: 512 });
  sim.ecs.defineTaskDefinition('report:3', { runSeconds: 60 });
  sim.ecs.addCluster('farm');
  sim.ecs.defineTaskDefinition('tiny', { networkMode: 'awsvpc' });
});
afterAll(async () => {
  ecs?.destroy();
  await sim?.close();
});

const fargate = { launchType: 'FARGATE' as const, networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } };

describe('RunTask', () => {
  it('starts tasks with the caller’s group, startedBy, tags and overrides and places them on instances', async () => {
    const out = await ecs.send(
      new RunTaskCommand({
        cluster: 'prod',
        taskDefinition: 'web',
        count: 2,
        startedBy: 'test-suite',
        group: 'batch:nightly',
        tags: [{ key: 'job', value: 'nightly' }],
        overrides: { containerOverrides: [{ name: 'web', command: ['run'] }] },
      }),
    );
    expect(out.failures).toEqual([]);
    expect(out.tasks).toHaveLength(2);
    const [a, b] = out.tasks!;
    expect(a).toMatchObject({
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1',
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      launchType: 'EC2',
      group: 'batch:nightly',
      startedBy: 'test-suite',
      tags: [{ key: 'job', value: 'nightly' }],
      version: 1,
      cpu: '256',
      memory: '512',
      overrides: { containerOverrides: [{ name: 'web', command: ['run'] }] },
    });
    expect(a!.taskArn).toMatch(/^arn:aws:ecs:eu-west-1:123456789012:task\/prod\/[0-9a-f]{32}$/);
    // Epoch seconds on the wire become Dates in the SDK.
    expect(a!.createdAt).toEqual(new Date('2026-03-01T12:00:00Z'));
    // Spread: one task on each instance.
    expect(new Set([a!.containerInstanceArn, b!.containerInstanceArn]).size).toBe(2);
    expect(sim.ecs.containerInstance('i-0aaa')!.remaining).toEqual({ cpu: 768, memory: 1536 });
  });

  it('reports placement failures per instance when no ACTIVE instance has room', async () => {
    sim.ecs.defineTaskDefinition('huge', { cpu: 512, memory: 4096 });
    const out = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'huge' }));
    expect(out.tasks).toEqual([]);
    expect(out.failures).toEqual([
      { arn: sim.ecs.containerInstance('i-0aaa')!.arn, reason: 'RESOURCE:MEMORY' },
      { arn: sim.ecs.containerInstance('i-0bbb')!.arn, reason: 'RESOURCE:MEMORY' },
    ]);
  });

  it('returns a scripted failure once', async () => {
    sim.ecs.failNextRunTask('Capacity is unavailable at this time. Please try again later or in a different availability zone');
    const failed = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web' }));
    expect(failed.tasks).toEqual([]);
    expect(failed.failures).toEqual([{ arn: sim.ecs.clusters.get('prod')!.arn, reason: expect.stringMatching(/^Capacity is unavailable/) }]);
    const ok = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web' }));
    expect(ok.tasks).toHaveLength(1);
  });

  it('answers a retried clientToken with the first task, and a reused token with other parameters with ConflictException', async () => {
    const input = { cluster: 'prod', taskDefinition: 'report', clientToken: 'occurrence-2026-03-01' };
    const first = await ecs.send(new RunTaskCommand(input));
    const again = await ecs.send(new RunTaskCommand(input));
    expect(again.tasks!.map((t) => t.taskArn)).toEqual(first.tasks!.map((t) => t.taskArn));
    expect(first.tasks![0]!.taskDefinitionArn).toMatch(/report:3$/);
    await expect(ecs.send(new RunTaskCommand({ ...input, startedBy: 'someone-else' }))).rejects.toMatchObject({ name: 'ConflictException' });
  });

  it('rejects what the real API rejects', async () => {
    await expect(ecs.send(new RunTaskCommand({ cluster: 'nope', taskDefinition: 'web' }))).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
      message: 'Cluster not found.',
    });
    await expect(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'missing' }))).rejects.toMatchObject({
      name: 'ClientException',
      message: 'TaskDefinition not found.',
    });
    await expect(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web', count: 11 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web', startedBy: 'x'.repeat(37) }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(ecs.send(new RunTaskCommand({ cluster: 'farm', taskDefinition: 'web' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'No Container Instances were found in your cluster.',
    });
    await expect(ecs.send(new RunTaskCommand({ cluster: 'farm', taskDefinition: 'tiny', launchType: 'FARGATE' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^Network Configuration must be provided/),
    });
  });
});

describe('ListTasks and DescribeTasks', () => {
  it('pages 250 tasks 100 at a time, and describes at most 100 ARNs per call', async () => {
    for (let i = 0; i < 25; i++) await ecs.send(new RunTaskCommand({ cluster: 'farm', taskDefinition: 'tiny', count: 10, startedBy: 'bulk', ...fargate }));

    const first = await ecs.send(new ListTasksCommand({ cluster: 'farm', maxResults: 100 }));
    expect(first.taskArns).toHaveLength(100);
    expect(first.nextToken).toBeTypeOf('string');

    const arns: string[] = [];
    const pages: number[] = [];
    for await (const page of paginateListTasks({ client: ecs, pageSize: 100 }, { cluster: 'farm', startedBy: 'bulk' })) {
      pages.push(page.taskArns!.length);
      arns.push(...page.taskArns!);
    }
    expect(pages).toEqual([100, 100, 50]);
    expect(new Set(arns).size).toBe(250);

    const described = await ecs.send(new DescribeTasksCommand({ cluster: 'farm', tasks: arns.slice(0, 100), include: ['TAGS'] }));
    expect(described.tasks).toHaveLength(100);
    expect(described.tasks![0]).toMatchObject({ launchType: 'FARGATE', lastStatus: 'PROVISIONING', tags: [] });

    const tooMany = ecs.send(new DescribeTasksCommand({ cluster: 'farm', tasks: arns.slice(0, 101) }));
    await expect(tooMany).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(tooMany).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('reports unknown tasks as MISSING failures and filters by instance, family and desired status', async () => {
    const [task] = (await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web' }))).tasks!;
    const missing = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/00000000000000000000000000000000';
    const out = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [task!.taskArn!, missing] }));
    expect(out.tasks!.map((t) => t.taskArn)).toEqual([task!.taskArn]);
    expect(out.tasks![0]!.tags).toBeUndefined(); // only with include: ['TAGS']
    expect(out.failures).toEqual([{ arn: missing, reason: 'MISSING' }]);

    const onInstance = await ecs.send(new ListTasksCommand({ cluster: 'prod', containerInstance: task!.containerInstanceArn }));
    expect(onInstance.taskArns).toContain(task!.taskArn);
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod', family: 'report' }))).taskArns).toHaveLength(1);
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod', desiredStatus: 'PENDING' }))).taskArns).toEqual([]);
  });
});

describe('StopTask', () => {
  it('sets desiredStatus STOPPED at once; the task stays listable as STOPPED once it has stopped', async () => {
    const [task] = (await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web' }))).tasks!;
    await sim.clock.advance(5_000);
    const stopped = await ecs.send(new StopTaskCommand({ cluster: 'prod', task: task!.taskArn, reason: 'Stopped by the test' }));
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING', stopCode: 'UserInitiated', stoppedReason: 'Stopped by the test' });

    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod' }))).taskArns).not.toContain(task!.taskArn);
    expect((await ecs.send(new ListTasksCommand({ cluster: 'prod', desiredStatus: 'STOPPED' }))).taskArns).toContain(task!.taskArn);

    await sim.clock.advance(10_000);
    const [after] = (await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [task!.taskArn!] }))).tasks!;
    expect(after).toMatchObject({ lastStatus: 'STOPPED', containers: [{ lastStatus: 'STOPPED', exitCode: 143 }] });
    expect(after!.stoppedAt!.getTime()).toBeGreaterThan(after!.startedAt!.getTime());

    await expect(ecs.send(new StopTaskCommand({ cluster: 'prod', task: 'deadbeef' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'The referenced task was not found.',
    });
  });
});

describe('DescribeClusters', () => {
  it('describes known clusters and reports unknown ones as MISSING', async () => {
    const out = await ecs.send(new DescribeClustersCommand({ clusters: ['prod', 'ghost'], include: ['TAGS'] }));
    expect(out.clusters).toEqual([
      expect.objectContaining({
        clusterName: 'prod',
        status: 'ACTIVE',
        registeredContainerInstancesCount: 2,
        clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
        tags: [],
      }),
    ]);
    expect(out.failures).toEqual([{ arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/ghost', reason: 'MISSING' }]);
  });
});

describe('endpoint from the environment', () => {
  it('reaches the simulator through AWS_ENDPOINT_URL_ECS, as a Lambda bundle would', async () => {
    const env = sim.env();
    expect(env).toMatchObject({ AWS_ENDPOINT_URL_ECS: sim.endpoint, AWS_ENDPOINT_URL_DYNAMODB: sim.dynamo.endpoint, AWS_REGION: 'eu-west-1' });
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const fromEnv = new ECSClient({});
      const out = await fromEnv.send(new DescribeClustersCommand({ clusters: ['prod'] }));
      expect(out.clusters![0]!.clusterName).toBe('prod');
      fromEnv.destroy();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
