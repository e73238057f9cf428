import { DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Job } from '../../functions/shared/config.ts';
import type { Change, Condition, Store } from '../../functions/shared/store.ts';
import type { Invocation } from '../../functions/task-lock/invocation.ts';
import {
  clientTokenFor,
  jobSlotId,
  occurrenceLockId,
  releaseOnStopped,
  runOccurrence,
  RunTaskFailedError,
  slotDecision,
  startedByFor,
  type JobSlot,
  type TaskLockDeps,
} from '../../functions/task-lock/lock.ts';
import { startDynamo } from '../../sim/dynamo.ts';
import { freshStore } from '../support/dynamo.ts';

const config = parseConfig({
  clusters: [{ name: 'prod' }],
  jobs: [
    { name: 'nightly', cluster: 'prod', taskDefinition: 'report:3', schedule: { expression: 'cron(0 2 * * ? *)' }, maxRunSeconds: 3600, launchType: 'EC2' },
    { name: 'parallel', cluster: 'prod', taskDefinition: 'fanout', schedule: { expression: 'rate(5 minutes)' }, maxRunSeconds: 3600, overlap: 'allow' },
  ],
});
const [nightly, parallel] = config.jobs as [Job, Job];
const T0 = Date.parse('2026-11-23T02:00:00Z');
const occurrence = (job: Job, at = T0): Extract<Invocation, { kind: 'occurrence' }> => ({
  kind: 'occurrence',
  job,
  occurrence: new Date(at).toISOString(),
  via: 'scheduler',
  deliveryId: `exec-${at}`,
});
const taskArn = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task/prod/${String(n).padStart(32, '0')}`;

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const ecsMock = mockClient(ECSClient);
let store: Store;
let now: number;
let metrics: Metrics;
let deps: TaskLockDeps;
let started: number;

// Counts go through single-metric objects (one per count), so watch every Metrics instance.
const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
const metricCount = (name: string) => addMetric.mock.calls.filter(([n]) => n === name).length;

beforeEach(async () => {
  ecsMock.reset();
  started = 0;
  // A RunTask that takes a little while, so that concurrent deliveries really overlap.
  ecsMock.on(RunTaskCommand).callsFake(async () => {
    await new Promise((r) => setTimeout(r, 5));
    return { tasks: [{ taskArn: taskArn(++started), lastStatus: 'PROVISIONING' }], failures: [] };
  });
  ({ store } = await freshStore(dynamo.endpoint));
  now = T0;
  metrics = new Metrics({ namespace: 'test' });
  addMetric.mockClear();
  deps = {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    store,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    now: () => now,
    remainingMs: () => 25_000,
    jobs: config.jobs,
    lockRetentionHours: 168,
  };
});

const runTaskCalls = () => ecsMock.commandCalls(RunTaskCommand);

describe('task-lock: one task per occurrence', () => {
  it('50 concurrent deliveries of one occurrence start exactly one task', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => runOccurrence(deps, occurrence(nightly), `owner-${i}`)));
    expect(runTaskCalls()).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(49);
    expect(metricCount('DuplicateDelivery')).toBe(49);
  });

  it('the same occurrence replayed one hour later starts nothing', async () => {
    await runOccurrence(deps, occurrence(nightly), 'first');
    now += 3600_000;
    const replay = await runOccurrence(deps, occurrence(nightly), 'late');
    expect(replay).toEqual({ outcome: 'duplicate', taskArn: taskArn(1), state: 'started' });
    expect(runTaskCalls()).toHaveLength(1);
  });

  it('sends RunTask with the job, a per-job startedBy, tags and an occurrence clientToken', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const input = runTaskCalls()[0]!.args[0].input;
    expect(input).toMatchObject({
      cluster: 'prod',
      taskDefinition: 'report:3',
      launchType: 'EC2',
      count: 1,
      startedBy: startedByFor('nightly'),
      clientToken: clientTokenFor('nightly', '2026-11-23T02:00:00.000Z'),
      tags: [
        { key: 'ecs-caretaker:job', value: 'nightly' },
        { key: 'ecs-caretaker:occurrence', value: '2026-11-23T02:00:00.000Z' },
      ],
    });
    // RunTask: "Up to 36 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_)".
    expect(input.startedBy).toMatch(/^[A-Za-z0-9/_-]{1,36}$/);
    expect(input.clientToken!.length).toBeLessThanOrEqual(64);
  });

  it('failures[] releases the lock, counts an error, and the retry runs the occurrence with a fresh clientToken', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc', reason: 'RESOURCE:MEMORY' }] })
      .resolves({ tasks: [{ taskArn: taskArn(1) }], failures: [] });
    const failed = runOccurrence(deps, occurrence(nightly), 'first');
    await expect(failed).rejects.toBeInstanceOf(RunTaskFailedError);
    await expect(failed).rejects.toThrow('RunTask started no task for job "nightly" occurrence 2026-11-23T02:00:00.000Z: RESOURCE:MEMORY on arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc');
    expect(metricCount('RunTaskFailed')).toBe(1);
    expect(await store.get(occurrenceLockId('nightly', '2026-11-23T02:00:00.000Z'))).toMatchObject({ state: 'failed', tokenAttempt: 1 });
    expect(await store.get(jobSlotId('nightly'))).toBeUndefined();

    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
    expect(runTaskCalls()).toHaveLength(2);
    const [first, retry] = runTaskCalls().map((c) => c.args[0].input.clientToken);
    expect(retry).not.toBe(first);
  });

  it('a thrown RunTask keeps its clientToken for the retry, since the task may have started', async () => {
    ecsMock
      .on(RunTaskCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
      .resolves({ tasks: [{ taskArn: taskArn(1) }], failures: [] });
    await expect(runOccurrence(deps, occurrence(nightly), 'first')).rejects.toThrow('socket hang up');
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toMatchObject({ outcome: 'started' });
    const [first, retry] = runTaskCalls().map((c) => c.args[0].input.clientToken);
    expect(retry).toBe(first);
  });

  it('an invocation that died while starting is taken over once its lock is stale', async () => {
    await store.put({ id: occurrenceLockId('nightly', occurrence(nightly).occurrence), state: 'starting', owner: 'dead', staleAt: T0 + 60_000, tokenAttempt: 0 });
    expect(await runOccurrence(deps, occurrence(nightly), 'early')).toMatchObject({ outcome: 'duplicate', state: 'starting' });
    now = T0 + 61_000;
    expect(await runOccurrence(deps, occurrence(nightly), 'late')).toMatchObject({ outcome: 'started' });
    expect(metricCount('LockTakeover')).toBe(1);
    expect(runTaskCalls()).toHaveLength(1);
  });
});

describe('task-lock: no overlap under `skip`', () => {
  it('skips while the previous run is RUNNING, and runs once it is STOPPED', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'RUNNING' }] });
    now = T0 + 600_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'b')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(1) });
    expect(metricCount('OverlapSkipped')).toBe(1);

    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'STOPPED' }] });
    now = T0 + 1_200_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'c')).toEqual({ outcome: 'started', taskArn: taskArn(2) });
    // the skipped occurrence stays skipped: a late duplicate of it starts nothing
    expect(await runOccurrence(deps, occurrence(nightly, T0 + 600_000), 'b2')).toMatchObject({ outcome: 'duplicate', state: 'skipped' });
  });

  it('does not believe the slot alone: a DEACTIVATING task still blocks', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'DEACTIVATING' }] });
    expect(await runOccurrence(deps, occurrence(nightly, T0 + 60_000), 'b')).toMatchObject({ outcome: 'skipped' });
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input).toEqual({ cluster: 'prod', tasks: [taskArn(1)] });
  });

  it('the STOPPED event releases the slot, and a later STOPPED of an older task does not release a newer one', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const stopped = (arn: string) => ({ kind: 'task-stopped' as const, taskArn: arn, clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod', startedBy: startedByFor('nightly') });
    expect(await releaseOnStopped(deps, stopped(taskArn(1)))).toEqual({ released: true, job: 'nightly' });
    expect(await releaseOnStopped(deps, stopped(taskArn(1)))).toEqual({ released: false, job: 'nightly' });

    now = T0 + 60_000;
    await runOccurrence(deps, occurrence(nightly, now), 'b');
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0); // the slot was free, nothing to check
    expect(await releaseOnStopped(deps, stopped(taskArn(1)))).toEqual({ released: false, job: 'nightly' });
    expect((await store.get<JobSlot>(jobSlotId('nightly')))?.taskArn).toBe(taskArn(2));
    expect(await releaseOnStopped(deps, { ...stopped(taskArn(9)), startedBy: 'ecs-svc/123' })).toEqual({ released: false });
  });

  it('STOPPED event lost: the lease expiry lets the next occurrence run', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    // ECS still says RUNNING (a hung run), so only the lease can free the job.
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'RUNNING' }] });
    now = T0 + 3599_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'b')).toMatchObject({ outcome: 'skipped' });
    now = T0 + 3601_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'c')).toMatchObject({ outcome: 'started', taskArn: taskArn(2) });
    expect(metricCount('LeaseExpired')).toBe(1);
  });

  it('STOPPED event lost: a task ECS no longer knows frees the job, but only after the consistency grace', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: taskArn(1), reason: 'MISSING' }] });
    expect(await runOccurrence(deps, occurrence(nightly, T0 + 30_000), 'b')).toMatchObject({ outcome: 'skipped' });
    expect(await runOccurrence(deps, occurrence(nightly, T0 + 600_000), 'c')).toMatchObject({ outcome: 'skipped' });
    now = T0 + 600_000;
    expect(await runOccurrence(deps, occurrence(nightly, T0 + 900_000), 'd')).toMatchObject({ outcome: 'started' });
  });

  it('a failed RunTask frees the job before its lock says `failed`, so a duplicate never skips its own occurrence', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'RESOURCE:CPU' }] })
      .resolves({ tasks: [{ taskArn: taskArn(1) }], failures: [] });
    const writes: string[] = [];
    // task-lock's updates never ask for the item back, so the wrapper needs only the plain overload.
    const update = (id: string, change: Change, condition?: Condition) => (writes.push(`update ${id}`), store.update(id, change, condition));
    const watched: Store = { ...store, update: update as Store['update'], delete: (id, ...rest) => (writes.push(`delete ${id}`), store.delete(id, ...rest)) };
    await expect(runOccurrence({ ...deps, store: watched }, occurrence(nightly), 'first')).rejects.toBeInstanceOf(RunTaskFailedError);
    expect(writes).toEqual([`delete ${jobSlotId('nightly')}`, `update ${occurrenceLockId('nightly', occurrence(nightly).occurrence)}`]);
  });

  it('a slot still held by an earlier delivery of the same occurrence does not skip it', async () => {
    const occ = occurrence(nightly).occurrence;
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'failed', owner: 'first', staleAt: T0 + 60_000, tokenAttempt: 1 });
    await store.put({ id: jobSlotId('nightly'), state: 'starting', owner: 'first', occurrence: occ, staleAt: T0 + 60_000, startedAt: T0, leaseUntil: T0 + 3600_000 });
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
    expect(runTaskCalls()[0]!.args[0].input.clientToken).toBe(clientTokenFor('nightly', occ, 1));
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
  });

  it('an invocation that died after RunTask: the next occurrence finds its task through ECS, skips, and adopts it', async () => {
    const died = new Date(T0).toISOString();
    await store.put({ id: jobSlotId('nightly'), state: 'starting', owner: 'dead', occurrence: died, staleAt: T0 + 60_000, startedAt: T0, leaseUntil: T0 + 3600_000 });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(5), taskArn(6)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: taskArn(5), lastStatus: 'RUNNING', tags: [{ key: 'ecs-caretaker:occurrence', value: '2026-11-22T02:00:00.000Z' }] },
        { taskArn: taskArn(6), lastStatus: 'RUNNING', tags: [{ key: 'ecs-caretaker:occurrence', value: died }] },
      ],
    });
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(6) });
    expect(ecsMock.commandCalls(ListTasksCommand)[0]!.args[0].input).toEqual({ cluster: 'prod', startedBy: startedByFor('nightly'), desiredStatus: 'RUNNING' });
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input).toMatchObject({ tasks: [taskArn(5), taskArn(6)], include: ['TAGS'] });
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({ state: 'running', taskArn: taskArn(6), leaseUntil: T0 + 3600_000 });
    // the adopted task's STOPPED event frees the job like any run's
    const stoppedEvent = { kind: 'task-stopped' as const, taskArn: taskArn(6), clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod', startedBy: startedByFor('nightly') };
    expect(await releaseOnStopped(deps, stoppedEvent)).toEqual({ released: true, job: 'nightly' });
  });

  it('an invocation that died before RunTask: the next occurrence finds no task of it and runs', async () => {
    await store.put({ id: jobSlotId('nightly'), state: 'starting', owner: 'dead', occurrence: new Date(T0).toISOString(), staleAt: T0 + 60_000, startedAt: T0, leaseUntil: T0 + 3600_000 });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('two different occurrences racing start one task between them', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'PENDING' }] });
    const results = await Promise.all([runOccurrence(deps, occurrence(nightly, T0), 'a'), runOccurrence(deps, occurrence(nightly, T0 + 1000), 'b')]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['skipped', 'started']);
    expect(runTaskCalls()).toHaveLength(1);
  });

  it('`allow` lets runs overlap and keeps no slot', async () => {
    await runOccurrence(deps, occurrence(parallel), 'a');
    await runOccurrence(deps, occurrence(parallel, T0 + 300_000), 'b');
    expect(runTaskCalls()).toHaveLength(2);
    expect(await store.get(jobSlotId('parallel'))).toBeUndefined();
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });
});

describe('slotDecision', () => {
  const slot: JobSlot = { id: 'job#x', state: 'running', owner: 'o', occurrence: 'o1', staleAt: T0 + 30_000, startedAt: T0, leaseUntil: T0 + 3600_000, taskArn: taskArn(1) };
  it.each([
    ['RUNNING', 10_000, true],
    ['PENDING', 10_000, true],
    ['DEACTIVATING', 10_000, true],
    ['STOPPING', 10_000, true],
    ['DEPROVISIONING', 10_000, true],
    ['STOPPED', 10_000, false],
    ['MISSING', 10_000, true],
    ['MISSING', 400_000, false],
    ['RUNNING', 3600_000, false],
  ])('%s at T0+%ims blocks: %s', (status, at, blocks) => {
    expect(slotDecision(slot, { status }, T0 + at).blocks).toBe(blocks);
  });
  it('a starting slot blocks until it is stale', () => {
    expect(slotDecision({ ...slot, state: 'starting' }, {}, T0 + 29_000).blocks).toBe(true);
    expect(slotDecision({ ...slot, state: 'starting' }, {}, T0 + 31_000).blocks).toBe(false);
  });
  it('a stale starting slot still blocks when ECS runs the task its dead holder started', () => {
    const starting: JobSlot = { ...slot, state: 'starting', taskArn: undefined };
    expect(slotDecision(starting, { startedTaskArn: taskArn(7) }, T0 + 31_000)).toEqual({ blocks: true, why: `occurrence o1 died after starting ${taskArn(7)}, which is still running` });
  });
});
