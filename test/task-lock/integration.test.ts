/**
 * task-lock's real handler, with real SDK clients pointed at the simulator
 * (ECS) and dynalite through AWS_ENDPOINT_URL_*, as in Lambda.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config.ts';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { createTable } from '../../sim/dynamo.ts';
import { fakeContext } from '../../sim/lambda.ts';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { releaseOnStopped, runOccurrence, startedByFor, type TaskLockDeps } from '../../functions/task-lock/lock.ts';
import { freshStore } from '../support/dynamo.ts';
import { loadAwsEvent } from '../support/fixtures.ts';

const config = parseConfig({
  clusters: [{ name: 'batch' }],
  jobs: [
    { name: 'nightly', cluster: 'batch', taskDefinition: 'report', launchType: 'EC2', schedule: { expression: 'cron(0 2 * * ? *)' }, maxRunSeconds: 3600 },
    {
      name: 'legacy',
      cluster: 'batch',
      taskDefinition: 'report',
      launchType: 'EC2',
      schedule: { expression: 'rate(1 hour)', method: 'rule', name: 'my-schedule' },
      maxRunSeconds: 3600,
    },
  ],
});
const scheduleNames = { nightly: 'cc-test-nightly', legacy: 'my-schedule' };

let sim: Sim;
let handler: (event: unknown, context: Context) => Promise<any>;

const TABLE = 'task-lock-it';
const scheduled = (at: string, executionId = `exec-${at}-${Math.random()}`) => ({
  job: 'nightly',
  scheduledTime: at,
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/cc-test-nightly',
  executionId,
  attemptNumber: '1',
});
const invoke = (event: unknown) => handler(event, fakeContext('cc-test-taskLock'));
const ourTasks = () => sim.ecs.tasks((t) => t.startedBy?.startsWith('ecs-caretaker-lock/') ?? false);
const ddb = () =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: sim.dynamo.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );

/** Empties the table between tests: dynalite has no TTL, and the handler keeps one table name for its lifetime. */
async function clearTable() {
  const doc = ddb();
  const { Items = [] } = await doc.send(new ScanCommand({ TableName: TABLE }));
  for (const item of Items) await doc.send(new DeleteCommand({ TableName: TABLE, Key: { id: item.id } }));
}

beforeAll(async () => {
  // The handler reads the wall clock here (the Lambda emulator of the E2E suite is what puts it on sim time):
  // starting the simulator now keeps every occurrence the tests schedule on time, never late.
  sim = await startSim({ start: new Date() });
  sim.ecs.addCluster('batch');
  sim.ecs.addContainerInstance('batch', { ec2InstanceId: 'i-0aaaaaaaaaaaaaaa1', cpu: 1024, memory: 2048 });
  sim.ecs.defineTaskDefinition('report', { runSeconds: 600, exitCode: 0, cpu: 256, memory: 512 });
  Object.assign(process.env, sim.env(), {
    TABLE_NAME: TABLE,
    TASK_LOCK_CONFIG: JSON.stringify({ jobs: config.jobs, scheduleNames, lockRetentionHours: 168, deployment: 'cc-test' }),
  });
  await createTable(sim.dynamo.endpoint, TABLE);
  ({ handler } = await import('../../functions/task-lock/handler.ts'));
  sim.bus.subscribePattern('task-lock', taskStoppedPattern, (event) => invoke(event));
});
afterAll(async () => {
  await sim?.close();
});

beforeEach(async () => {
  sim.faults.clear();
  // Let earlier tests' tasks finish, so that every test starts with an idle job.
  await sim.clock.advance(3600_000);
  await sim.bus.drain();
  await clearTable();
});

const at = (minutes: number) => new Date(sim.clock.now() + minutes * 60_000).toISOString();

describe('task-lock handler against the simulator', () => {
  it('50 concurrent deliveries of one occurrence start exactly one task', async () => {
    const before = ourTasks().length;
    const occurrence = at(1);
    const results = await Promise.all(Array.from({ length: 50 }, () => invoke(scheduled(occurrence))));
    expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(ourTasks().length - before).toBe(1);
  });

  it('RunTask throttled twice, then OK: the SDK retries and exactly one task starts', async () => {
    const before = ourTasks().length;
    const runTasksBefore = sim.countCalls('ecs', 'RunTask');
    sim.faults.failNext('ecs', 'RunTask', 'ThrottlingException', 2);
    const result = await invoke(scheduled(at(1)));
    expect(result.outcome).toBe('started');
    expect(sim.countCalls('ecs', 'RunTask') - runTasksBefore).toBe(3);
    expect(ourTasks().length - before).toBe(1);
  });

  it('a RunTask answered with a 5xx after ECS started the task: the async retry gets the same task back', async () => {
    const before = ourTasks().length;
    // Every SDK attempt reaches ECS, which starts the task on the first one, then answers 500 each time.
    sim.faults.failNext('ecs', 'RunTask', 'ServerException', 5, { afterApply: true });
    const occurrence = scheduled(at(1));
    await expect(invoke(occurrence)).rejects.toThrow();
    const retry = await invoke(occurrence);
    expect(retry.outcome).toBe('started');
    expect(ourTasks().length - before).toBe(1);
  });

  it('RunTask applied, every answer lost: the next occurrence skips beside the untracked task, and the retry records that task as its own', async () => {
    const before = ourTasks().length;
    sim.faults.failNext('ecs', 'RunTask', 'ServerException', 5, { afterApply: true });
    const first = scheduled(at(1));
    await expect(invoke(first)).rejects.toThrow();
    const [untracked] = ourTasks().slice(before);
    expect(untracked?.lastStatus).not.toBe('STOPPED');

    // The next occurrence comes before Lambda's retry of the first: the job is still held by the first.
    await sim.clock.advance(2 * 60_000);
    expect(await invoke(scheduled(at(1)))).toMatchObject({ outcome: 'skipped' });
    expect(await invoke(first)).toEqual({ outcome: 'started', taskArn: untracked!.arn });
    expect(ourTasks().length - before).toBe(1);
  });

  it('a job slot deleted by hand mid-run: the next occurrence asks ECS and skips beside nothing', async () => {
    const first = await invoke(scheduled(at(1)));
    expect(first.outcome).toBe('started');
    await ddb().send(new DeleteCommand({ TableName: TABLE, Key: { id: 'job#nightly' } }));
    await sim.clock.advance(60_000);
    expect(await invoke(scheduled(at(1)))).toEqual({ outcome: 'skipped', runningTaskArn: first.taskArn });
    expect(ourTasks().filter((t) => t.lastStatus !== 'STOPPED')).toHaveLength(1);
  });

  it("failures[] (RESOURCE:MEMORY): the lock is released and Lambda's retry runs the occurrence once", async () => {
    const before = ourTasks().length;
    sim.ecs.failNextRunTask('RESOURCE:MEMORY');
    const occurrence = scheduled(at(1));
    await expect(invoke(occurrence)).rejects.toThrow('RESOURCE:MEMORY');
    expect(ourTasks().length - before).toBe(0);
    expect((await invoke(occurrence)).outcome).toBe('started');
    expect((await invoke(occurrence)).outcome).toBe('duplicate');
    expect(ourTasks().length - before).toBe(1);
  });

  it('skips while the previous run is RUNNING, runs after its STOPPED event, through the real event path', async () => {
    const first = await invoke(scheduled(at(1)));
    expect(first.outcome).toBe('started');
    await sim.clock.advance(60_000);
    expect(sim.ecs.task(first.taskArn)!.lastStatus).toBe('RUNNING');

    const second = await invoke(scheduled(at(2)));
    expect(second).toEqual({ outcome: 'skipped', runningTaskArn: first.taskArn });

    // The task exits after its 600 s; ECS emits STOPPED, the bus delivers it to task-lock, which frees the job.
    await sim.clock.advance(15 * 60_000);
    await sim.bus.drain();
    expect(sim.ecs.task(first.taskArn)!.lastStatus).toBe('STOPPED');
    const describesBefore = sim.countCalls('ecs', 'DescribeTasks');
    const third = await invoke(scheduled(at(1)));
    expect(third.outcome).toBe('started');
    expect(sim.countCalls('ecs', 'DescribeTasks') - describesBefore).toBe(0); // the slot was released by the event
  });

  it('STOPPED event lost: the next occurrence still runs, after DescribeTasks says STOPPED', async () => {
    const first = await invoke(scheduled(at(1)));
    sim.faults.events({ lose: 1 });
    await sim.clock.advance(15 * 60_000);
    await sim.bus.drain();
    sim.faults.events({ lose: 0 });
    expect(sim.ecs.task(first.taskArn)!.lastStatus).toBe('STOPPED');
    const next = await invoke(scheduled(at(1)));
    expect(next.outcome).toBe('started');
  });

  it('accepts the real EventBridge rule payload and runs the job of that rule', async () => {
    const recorded = loadAwsEvent('scheduled-event-rule-dotnet.json') as { time: string };
    // As recorded, it is years late: refused, as a redrive that late is.
    expect(await invoke(recorded)).toMatchObject({ outcome: 'too-late', maxDelaySeconds: 3600 });
    const event = { ...recorded, time: new Date().toISOString() };
    const result = await invoke(event);
    expect(result.outcome).toBe('started');
    expect(sim.ecs.task(result.taskArn)!.tags).toEqual(expect.arrayContaining([{ key: 'ecs-caretaker:job', value: 'legacy' }]));
    expect((await invoke(event)).outcome).toBe('duplicate');
  });

  it('rejects a malformed payload with a clear error and starts nothing', async () => {
    const before = sim.countCalls('ecs', 'RunTask');
    await expect(invoke({ job: 'nightly', scheduledTime: 'yesterday' })).rejects.toThrow(/scheduledTime: expected an ISO-8601 time/);
    await expect(
      invoke({ job: 'weekly', scheduledTime: at(0), scheduleArn: 'arn:aws:scheduler:eu-west-1:1:schedule/default/x', executionId: 'e' }),
    ).rejects.toThrow('Unknown job "weekly"');
    expect(sim.countCalls('ecs', 'RunTask')).toBe(before);
  });
});

describe('two stacks, one cluster', () => {
  it('prod and staging running the same job on one cluster each start their own task, and free only their own slot', async () => {
    await sim.clock.advance(3600_000);
    const stack = async (deployment: string): Promise<TaskLockDeps> => ({
      ecs: new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
      store: (await freshStore(sim.dynamo.endpoint)).store,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'test' }),
      now: () => sim.clock.now(),
      remainingMs: () => 25_000,
      jobs: config.jobs,
      lockRetentionHours: 168,
      deployment,
    });
    const [prod, staging] = [await stack('ecs-caretaker-prod'), await stack('ecs-caretaker-staging')];
    const nightly = config.jobs[0]!;
    const inv = { kind: 'occurrence' as const, job: nightly, occurrence: at(1), via: 'scheduler' as const, deliveryId: 'x' };
    const a = await runOccurrence(prod, inv, 'prod-1');
    // Same job name, same parameters, same occurrence: neither the other stack's clientToken nor its running task is this stack's.
    const b = await runOccurrence(staging, inv, 'staging-1');
    expect(a.outcome).toBe('started');
    expect(b.outcome).toBe('started');
    if (a.outcome !== 'started' || b.outcome !== 'started') return;
    expect(a.taskArn).not.toBe(b.taskArn);
    expect(sim.ecs.task(a.taskArn)!.startedBy).toBe(startedByFor('ecs-caretaker-prod', 'nightly'));
    expect(sim.ecs.task(b.taskArn)!.tags).toContainEqual({ key: 'ecs-caretaker:deployment', value: 'ecs-caretaker-staging' });

    const stoppedOf = (taskArn: string) => ({
      kind: 'task-stopped' as const,
      taskArn,
      clusterArn: sim.ecs.clusters.get('batch')!.arn,
      startedBy: sim.ecs.task(taskArn)!.startedBy!,
    });
    expect(await releaseOnStopped(staging, stoppedOf(a.taskArn))).toEqual({ released: false });
    expect(await releaseOnStopped(staging, stoppedOf(b.taskArn))).toEqual({ released: true, job: 'nightly' });
  });
});
