import { DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Job } from '../../functions/shared/config.ts';
import { putIfAbsent, type Change, type Condition, type ReturnItem, type Store } from '../../functions/shared/store.ts';
import type { Invocation } from '../../functions/task-lock/invocation.ts';
import {
  clientTokenFor,
  isTaskLockStartedBy,
  jobSlotId,
  MISSING_GRACE_MS,
  occurrenceLockId,
  overlapDecision,
  releaseOnStopped,
  runOccurrence,
  RunTaskFailedError,
  slotDecision,
  startedByFor,
  stopReasonFor,
  type JobSlot,
  type OccurrenceLock,
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
const DEPLOYMENT = 'ecs-caretaker-prod';
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
    deployment: DEPLOYMENT,
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
      startedBy: startedByFor(DEPLOYMENT, 'nightly'),
      clientToken: clientTokenFor(DEPLOYMENT, 'nightly', '2026-11-23T02:00:00.000Z'),
      tags: [
        { key: 'ecs-caretaker:deployment', value: DEPLOYMENT },
        { key: 'ecs-caretaker:job', value: 'nightly' },
        { key: 'ecs-caretaker:occurrence', value: '2026-11-23T02:00:00.000Z' },
      ],
    });
    // Another stack's run of the same job and occurrence is another task.
    expect(startedByFor('ecs-caretaker-staging', 'nightly')).not.toBe(input.startedBy);
    expect(clientTokenFor('ecs-caretaker-staging', 'nightly', '2026-11-23T02:00:00.000Z')).not.toBe(input.clientToken);
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
    await expect(failed).rejects.toThrow(
      'RunTask started no task for job "nightly" occurrence 2026-11-23T02:00:00.000Z: RESOURCE:MEMORY on arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc',
    );
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
    // The task may run: the job stays held by this occurrence, for the next one to resolve through ECS.
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({ state: 'starting', occurrence: occurrence(nightly).occurrence });
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toMatchObject({ outcome: 'started' });
    const [first, retry] = runTaskCalls().map((c) => c.args[0].input.clientToken);
    expect(retry).toBe(first);
  });

  it('an invocation that died while starting is taken over once its lock is stale', async () => {
    await store.put({
      id: occurrenceLockId('nightly', occurrence(nightly).occurrence),
      state: 'starting',
      owner: 'dead',
      staleAt: T0 + 60_000,
      tokenAttempt: 0,
    });
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
    const stopped = (arn: string) => ({
      kind: 'task-stopped' as const,
      taskArn: arn,
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      startedBy: startedByFor(DEPLOYMENT, 'nightly'),
    });
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
    const update = (id: string, change: Change, condition?: Condition) => {
      writes.push(`update ${id}`);
      return store.update(id, change, condition);
    };
    const remove: Store['delete'] = (id, ...rest) => {
      writes.push(`delete ${id}`);
      return store.delete(id, ...rest);
    };
    const watched: Store = { ...store, update: update as Store['update'], delete: remove };
    await expect(runOccurrence({ ...deps, store: watched }, occurrence(nightly), 'first')).rejects.toBeInstanceOf(RunTaskFailedError);
    expect(writes).toEqual([`delete ${jobSlotId('nightly')}`, `update ${occurrenceLockId('nightly', occurrence(nightly).occurrence)}`]);
  });

  it('a slot still held by an earlier delivery of the same occurrence does not skip it', async () => {
    const occ = occurrence(nightly).occurrence;
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'failed', owner: 'first', staleAt: T0 + 60_000, tokenAttempt: 1 });
    await store.put({
      id: jobSlotId('nightly'),
      state: 'starting',
      owner: 'first',
      occurrence: occ,
      staleAt: T0 + 60_000,
      startedAt: T0,
      leaseUntil: T0 + 3600_000,
    });
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
    expect(runTaskCalls()[0]!.args[0].input.clientToken).toBe(clientTokenFor(DEPLOYMENT, 'nightly', occ, 1));
    // Only the one ListTasks every start asks first; the holder itself needed no ECS call.
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(1);
  });

  it('an invocation that died after RunTask: the next occurrence finds its task through ECS, skips, and adopts it', async () => {
    const died = new Date(T0).toISOString();
    await putDeadStartingSlot(died);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(5), taskArn(6)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: taskArn(5), lastStatus: 'RUNNING', tags: [{ key: 'ecs-caretaker:occurrence', value: '2026-11-22T02:00:00.000Z' }] },
        { taskArn: taskArn(6), lastStatus: 'RUNNING', tags: [{ key: 'ecs-caretaker:occurrence', value: died }] },
      ],
    });
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(6) });
    // startedBy must be the only filter (ListTasks API reference); the default desired status, RUNNING, covers PENDING tasks.
    expect(ecsMock.commandCalls(ListTasksCommand)[0]!.args[0].input).toEqual({ cluster: 'prod', startedBy: startedByFor(DEPLOYMENT, 'nightly') });
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input).toMatchObject({ tasks: [taskArn(5), taskArn(6)], include: ['TAGS'] });
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({ state: 'running', taskArn: taskArn(6), leaseUntil: T0 + 3600_000 });
    // the adopted task's STOPPED event frees the job like any run's
    const stoppedEvent = {
      kind: 'task-stopped' as const,
      taskArn: taskArn(6),
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      startedBy: startedByFor(DEPLOYMENT, 'nightly'),
    };
    expect(await releaseOnStopped(deps, stoppedEvent)).toEqual({ released: true, job: 'nightly' });
  });

  it('an invocation that died before RunTask: the next occurrence finds no task of it and runs', async () => {
    await putDeadStartingSlot(new Date(T0).toISOString());
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
  const slot: JobSlot = {
    id: 'job#x',
    state: 'running',
    owner: 'o',
    occurrence: 'o1',
    staleAt: T0 + 30_000,
    startedAt: T0,
    leaseUntil: T0 + 3600_000,
    taskArn: taskArn(1),
  };
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
    expect(slotDecision(starting, { startedTaskArn: taskArn(7) }, T0 + 31_000)).toEqual({
      blocks: true,
      why: `occurrence o1 died after starting ${taskArn(7)}, which is still running`,
    });
  });
});

// ---------------------------------------------------------------------------
// Promises that mutation testing (npm run mutation -- lock) found unstated.

/** Every log line of one run, as [level, message, attributes]. */
function watchLogs(): Array<[string, string, Record<string, unknown>]> {
  const lines: Array<[string, string, Record<string, unknown>]> = [];
  for (const level of ['info', 'warn', 'error'] as const) {
    vi.spyOn(deps.logger, level).mockImplementation(((message: string, attributes: Record<string, unknown>) => {
      lines.push([level, message, attributes]);
    }) as never);
  }
  return lines;
}
const stoppedOf = (arn: string) => ({
  kind: 'task-stopped' as const,
  taskArn: arn,
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
  startedBy: startedByFor(DEPLOYMENT, 'nightly'),
});
/** The tags RunTask puts on a task of `nightly` for `occ`. */
/**
 * The test's store with some calls intercepted, to stage a race at one precise
 * point. Every other call goes to the real store as a method of it, so the
 * store's own internals never see the interceptors.
 */
const intercept = (overrides: Partial<Store>): Store => ({
  get: (id) => store.get(id),
  put: (item, condition) => store.put(item, condition),
  // Both overloads pass through: with RETURN_ITEM the item comes back, as from the real store.
  update: ((id: string, change: Change, condition?: Condition, options?: ReturnItem) =>
    options ? store.update(id, change, condition, options) : store.update(id, change, condition)) as Store['update'],
  delete: (id, condition) => store.delete(id, condition),
  scan: (prefix, options) => store.scan(prefix, options),
  ...overrides,
});
/** The job slot of an invocation that died after claiming it for `occurrence`, before recording its task. */
const putDeadStartingSlot = (occurrence: string) =>
  store.put({ id: jobSlotId('nightly'), state: 'starting', owner: 'dead', occurrence, staleAt: T0 + 60_000, startedAt: T0, leaseUntil: T0 + 3600_000 });

const taskTags = (occ: string) => [
  { key: 'ecs-caretaker:job', value: 'nightly' },
  { key: 'ecs-caretaker:occurrence', value: occ },
];

describe('task-lock: what operators see (logs with the job, the occurrence and why; metrics by Job)', () => {
  it('a started occurrence logs one line with the job, cluster, occurrence, delivery and task', async () => {
    const logs = watchLogs();
    await runOccurrence(deps, occurrence(nightly), 'a');
    expect(logs).toEqual([
      [
        'info',
        expect.stringMatching(/started/i),
        { job: 'nightly', cluster: 'prod', occurrence: '2026-11-23T02:00:00.000Z', deliveryId: `exec-${T0}`, via: 'scheduler', taskArn: taskArn(1) },
      ],
    ]);
  });

  it('counts go out with the Job dimension, so each job has its own alarm', async () => {
    const addDimension = vi.spyOn(Metrics.prototype, 'addDimension');
    await runOccurrence(deps, occurrence(nightly), 'a');
    expect(addDimension).toHaveBeenCalledWith('Job', 'nightly');
    expect(metricCount('OccurrenceStarted')).toBe(1);
    addDimension.mockRestore();
  });

  it('a duplicate delivery logs the state of the lock it found and the task already started', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const logs = watchLogs();
    await runOccurrence(deps, occurrence(nightly), 'b');
    expect(logs).toEqual([
      [
        'info',
        expect.stringMatching(/duplicate/i),
        expect.objectContaining({ job: 'nightly', occurrence: '2026-11-23T02:00:00.000Z', state: 'started', taskArn: taskArn(1) }),
      ],
    ]);
  });

  it('a delivery that arrives while another is still starting the task reports the lock as starting', async () => {
    const results = await Promise.all([runOccurrence(deps, occurrence(nightly), 'a'), runOccurrence(deps, occurrence(nightly), 'b')]);
    expect(results.find((r) => r.outcome === 'duplicate')).toEqual({ outcome: 'duplicate', taskArn: undefined, state: 'starting' });
  });

  it('a skip logs a warning with the running task and why it still blocks (README: "the running task\'s ARN in the log")', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'RUNNING' }] });
    now = T0 + 600_000;
    const logs = watchLogs();
    await runOccurrence(deps, occurrence(nightly, now), 'b');
    expect(logs).toEqual([
      [
        'warn',
        expect.stringMatching(/skipped/i),
        expect.objectContaining({ job: 'nightly', occurrence: new Date(now).toISOString(), runningTaskArn: taskArn(1), why: `${taskArn(1)} is RUNNING` }),
      ],
    ]);
  });

  it('an occurrence racing one that is still starting its task is skipped, and says so', async () => {
    const logs = watchLogs();
    await Promise.all([runOccurrence(deps, occurrence(nightly, T0), 'a'), runOccurrence(deps, occurrence(nightly, T0 + 1000), 'b')]);
    const skip = logs.find(([level]) => level === 'warn');
    expect(skip?.[2].why).toMatch(/^occurrence 2026-11-23T02:00:0[01]\.000Z is starting a task right now$/);
    // No ECS call to judge a holder that is starting right now.
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('a failed RunTask logs an error with the job and the error, besides the RunTaskFailed count', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] });
    const logs = watchLogs();
    const failed = await runOccurrence(deps, occurrence(nightly), 'a').catch((e: Error) => e);
    expect(logs).toEqual([
      ['error', expect.stringMatching(/RunTask failed/), expect.objectContaining({ job: 'nightly', occurrence: '2026-11-23T02:00:00.000Z', error: failed })],
    ]);
  });

  it('RunTaskFailedError keeps its name, which Lambda reports as the errorType of the failed invocation', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] });
    const failed = await runOccurrence(deps, occurrence(nightly), 'a').catch((e: Error) => e);
    expect(failed).toMatchObject({ name: 'RunTaskFailedError' });
  });

  it('the RunTask error names every failure, with its detail and where it happened', async () => {
    ecsMock.on(RunTaskCommand).resolves({
      failures: [
        { arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc', reason: 'RESOURCE:MEMORY' },
        { reason: 'AGENT', detail: 'agent disconnected' },
        { detail: 'no reason given' },
      ],
    });
    await expect(runOccurrence(deps, occurrence(nightly), 'a')).rejects.toThrow(
      'RunTask started no task for job "nightly" occurrence 2026-11-23T02:00:00.000Z: RESOURCE:MEMORY on arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc; AGENT (agent disconnected); unknown (no reason given)',
    );
  });

  it('a RunTask answer with neither a task nor a failure is still a failure, and says so', async () => {
    ecsMock.on(RunTaskCommand).resolves({});
    await expect(runOccurrence(deps, occurrence(nightly), 'a')).rejects.toThrow(
      'RunTask started no task for job "nightly" occurrence 2026-11-23T02:00:00.000Z: no failures reported',
    );
  });

  it('freeing the job of a run that outlived its lease warns and counts LeaseExpired; freeing a STOPPED one only informs', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'STOPPED' }] });
    now = T0 + 600_000;
    const logs = watchLogs();
    await runOccurrence(deps, occurrence(nightly, now), 'b');
    expect(metricCount('LeaseExpired')).toBe(0);
    expect(logs[0]).toEqual([
      'info',
      expect.stringMatching(/stale slot/),
      expect.objectContaining({ previousTaskArn: taskArn(1), why: `${taskArn(1)} is STOPPED (its STOPPED event was not processed)` }),
    ]);
    expect(logs[1]).toEqual(['info', expect.stringMatching(/started/i), expect.objectContaining({ taskArn: taskArn(2) })]);

    // Exactly at the end of the lease (maxRunSeconds 3600 after the run started), the lease is over.
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(2), lastStatus: 'RUNNING' }] });
    now = T0 + 600_000 + 3600_000;
    logs.length = 0;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'c')).toMatchObject({ outcome: 'started' });
    expect(metricCount('LeaseExpired')).toBe(1);
    expect(logs[0]).toEqual([
      'warn',
      expect.stringMatching(/lease/),
      expect.objectContaining({ previousTaskArn: taskArn(2), why: expect.stringContaining(`lease of ${taskArn(2)} expired at`) }),
    ]);
  });

  it('the STOPPED event logs and counts SlotReleased only when it really freed the job', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const logs = watchLogs();
    await releaseOnStopped(deps, { ...stoppedOf(taskArn(1)), stoppedReason: 'Essential container in task exited' });
    expect(metricCount('SlotReleased')).toBe(1);
    await releaseOnStopped(deps, stoppedOf(taskArn(1)));
    expect(metricCount('SlotReleased')).toBe(1);
    await releaseOnStopped(deps, { ...stoppedOf(taskArn(9)), startedBy: 'ecs-svc/1234567890' });
    expect(logs).toEqual([
      ['info', expect.stringMatching(/released/), { job: 'nightly', taskArn: taskArn(1), stoppedReason: 'Essential container in task exited' }],
      ['info', expect.stringMatching(/no longer holds/), { job: 'nightly', taskArn: taskArn(1), stoppedReason: undefined }],
      ['info', expect.stringMatching(/not started for a configured job/), { taskArn: taskArn(9), startedBy: 'ecs-svc/1234567890' }],
    ]);
  });

  it('task-lock tags its tasks with a startedBy of its own, which nothing else uses', () => {
    expect(startedByFor(DEPLOYMENT, 'nightly')).toMatch(/^ecs-caretaker-lock\//);
    expect(isTaskLockStartedBy(startedByFor(DEPLOYMENT, 'nightly'))).toBe(true);
    expect(isTaskLockStartedBy('ecs-svc/9909299324976484585')).toBe(false);
    expect(isTaskLockStartedBy('events-rule/nightly')).toBe(false);
  });
});

describe('task-lock: the records outlive what they protect', () => {
  it('the occurrence lock is kept lockRetentionHours, and stays stale-proof for the whole invocation plus 30 s', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const lock = await store.get<OccurrenceLock>(occurrenceLockId('nightly', '2026-11-23T02:00:00.000Z'));
    expect(lock?.expiration).toBe(T0 / 1000 + 168 * 3600);
    expect(lock?.staleAt).toBe(T0 + 25_000 + 30_000);
  });

  it('the TTL of the job slot never ends before its lease', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    const slot = await store.get<JobSlot>(jobSlotId('nightly'));
    expect(slot?.leaseUntil).toBe(T0 + 3600_000);
    expect(slot!.expiration! * 1000).toBeGreaterThan(slot!.leaseUntil);
  });

  it('a second delivery while the first invocation may still be in RunTask does not take its lock over', async () => {
    let release!: () => void;
    ecsMock.on(RunTaskCommand).callsFake(async () => {
      await new Promise<void>((r) => (release = r));
      return { tasks: [{ taskArn: taskArn(1) }], failures: [] };
    });
    const first = runOccurrence(deps, occurrence(nightly), 'first');
    await vi.waitFor(() => expect(runTaskCalls()).toHaveLength(1));
    now = T0 + 20_000; // within the first invocation's remaining 25 s
    expect(await runOccurrence(deps, occurrence(nightly), 'second')).toMatchObject({ outcome: 'duplicate', state: 'starting' });
    release();
    await first;
    expect(runTaskCalls()).toHaveLength(1);
  });
});

describe('task-lock: a skipped occurrence records what it was skipped for', () => {
  it('the running task when the holder has one, else the occurrence still starting', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'RUNNING' }] });
    now = T0 + 600_000;
    await runOccurrence(deps, occurrence(nightly, now), 'b');
    expect(await store.get(occurrenceLockId('nightly', new Date(now).toISOString()))).toMatchObject({ state: 'skipped', skippedFor: taskArn(1) });

    // A holder that is starting right now has no task yet: the lock names its occurrence.
    await store.put({
      id: jobSlotId('nightly'),
      state: 'starting',
      owner: 'other',
      occurrence: '2026-11-23T02:25:00.000Z',
      staleAt: T0 + 1_600_000,
      startedAt: T0 + 1_500_000,
      leaseUntil: T0 + 5_100_000,
    });
    now = T0 + 1_560_000;
    await runOccurrence(deps, occurrence(nightly, now), 'e');
    expect(await store.get(occurrenceLockId('nightly', new Date(now).toISOString()))).toMatchObject({
      state: 'skipped',
      skippedFor: '2026-11-23T02:25:00.000Z',
    });
  });
});

describe('task-lock: deaths and races at the edges', () => {
  const occ = '2026-11-23T02:00:00.000Z';

  it('a lock is stale exactly at its staleAt', async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'starting', owner: 'dead', staleAt: T0 + 60_000, tokenAttempt: 0 });
    now = T0 + 60_000;
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toMatchObject({ outcome: 'started' });
  });

  it("two retries taking over one dead invocation's lock at the same time start one task", async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'starting', owner: 'dead', staleAt: T0 + 60_000, tokenAttempt: 0 });
    now = T0 + 61_000;
    const results = await Promise.all([runOccurrence(deps, occurrence(nightly), 'r1'), runOccurrence(deps, occurrence(nightly), 'r2')]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['duplicate', 'started']);
    expect(runTaskCalls()).toHaveLength(1);
  });

  it('a lock that vanishes between our write and our read (TTL) is written again, once', async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'started', owner: 'old', staleAt: T0, tokenAttempt: 0, taskArn: taskArn(8) });
    let vanished = false;
    const racing = intercept({
      get: async (id) => {
        if (!vanished && id === occurrenceLockId('nightly', occ)) {
          vanished = true;
          await store.delete(id);
        }
        return store.get(id);
      },
    });
    expect(await runOccurrence({ ...deps, store: racing }, occurrence(nightly), 'a')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
  });

  it('when the lock vanishes and another delivery writes it first, this one starts nothing', async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'started', owner: 'old', staleAt: T0, tokenAttempt: 0, taskArn: taskArn(8) });
    let raced = false;
    const racing = intercept({
      get: async (id) => {
        if (!raced && id === occurrenceLockId('nightly', occ)) {
          raced = true;
          await store.delete(id);
          await putIfAbsent(store, { id, state: 'starting', owner: 'other', staleAt: T0 + 55_000, tokenAttempt: 0 });
          return undefined;
        }
        return store.get(id);
      },
    });
    expect(await runOccurrence({ ...deps, store: racing }, occurrence(nightly), 'a')).toMatchObject({ outcome: 'duplicate', state: 'starting' });
    expect(runTaskCalls()).toHaveLength(0);
  });

  it('a delivery that died after RunTask and the slot, but before the lock: its retry finds the task in the slot and starts none', async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'starting', owner: 'dead', staleAt: T0 + 55_000, tokenAttempt: 0 });
    await store.put({
      id: jobSlotId('nightly'),
      state: 'running',
      owner: 'dead',
      occurrence: occ,
      staleAt: T0 + 55_000,
      startedAt: T0,
      leaseUntil: T0 + 3600_000,
      taskArn: taskArn(3),
    });
    now = T0 + 120_000;
    const logs = watchLogs();
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toEqual({ outcome: 'duplicate', taskArn: taskArn(3), state: 'started' });
    expect(logs).toEqual([
      ['warn', expect.stringMatching(/Took over the lock/), expect.objectContaining({ job: 'nightly', occurrence: occ, previousOwner: 'dead' })],
      ['info', expect.stringMatching(/already started/), expect.objectContaining({ job: 'nightly', occurrence: occ, taskArn: taskArn(3) })],
    ]);
    expect(runTaskCalls()).toHaveLength(0);
    expect(await store.get(occurrenceLockId('nightly', occ))).toMatchObject({ state: 'started', taskArn: taskArn(3) });
  });

  it('an earlier delivery of the same occurrence that stopped before RunTask: its slot is replaced and the why is logged', async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'failed', owner: 'first', staleAt: T0 + 55_000, tokenAttempt: 0 });
    await store.put({
      id: jobSlotId('nightly'),
      state: 'starting',
      owner: 'first',
      occurrence: occ,
      staleAt: T0 + 55_000,
      startedAt: T0,
      leaseUntil: T0 + 3600_000,
    });
    const logs = watchLogs();
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toMatchObject({ outcome: 'started' });
    expect(logs[0]).toEqual([
      'info',
      expect.stringMatching(/stale slot/),
      expect.objectContaining({ why: 'an earlier delivery of this occurrence stopped before starting its task' }),
    ]);
  });

  it('a slot freed by its STOPPED event between our write and our read is taken', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    let freed = false;
    const racing = intercept({
      get: async (id) => {
        if (!freed && id === jobSlotId('nightly')) {
          freed = true;
          await releaseOnStopped(deps, stoppedOf(taskArn(1)));
        }
        return store.get(id);
      },
    });
    now = T0 + 600_000;
    expect(await runOccurrence({ ...deps, store: racing }, occurrence(nightly, now), 'b')).toEqual({ outcome: 'started', taskArn: taskArn(2) });
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('a slot freed between our write and our read, then taken by another occurrence first: this one is skipped', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(7), lastStatus: 'RUNNING' }] });
    let raced = false;
    const racing = intercept({
      get: async (id) => {
        if (!raced && id === jobSlotId('nightly')) {
          raced = true;
          await releaseOnStopped(deps, stoppedOf(taskArn(1)));
          const other = new Date(T0 + 300_000).toISOString();
          await putIfAbsent(store, {
            id,
            state: 'running',
            owner: 'other',
            occurrence: other,
            staleAt: T0 + 355_000,
            startedAt: T0 + 300_000,
            leaseUntil: T0 + 3900_000,
            taskArn: taskArn(7),
          });
          return undefined;
        }
        return store.get(id);
      },
    });
    now = T0 + 600_000;
    expect(await runOccurrence({ ...deps, store: racing }, occurrence(nightly, now), 'b')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(7) });
    expect(runTaskCalls()).toHaveLength(1);
  });

  it("an earlier delivery's slot replaced by another occurrence just before we replace it: this one is skipped", async () => {
    await store.put({ id: occurrenceLockId('nightly', occ), state: 'failed', owner: 'first', staleAt: T0 + 55_000, tokenAttempt: 0 });
    await store.put({
      id: jobSlotId('nightly'),
      state: 'starting',
      owner: 'first',
      occurrence: occ,
      staleAt: T0 + 55_000,
      startedAt: T0,
      leaseUntil: T0 + 3600_000,
    });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(7), lastStatus: 'RUNNING' }] });
    let raced = false;
    const racing = intercept({
      put: async (item, condition) => {
        // Only the conditional replace of the holder we judged (ownedBy), not the put-if-absent that opens acquireJobSlot.
        if (!raced && item.id === jobSlotId('nightly') && condition?.refusal === 'not-owner') {
          raced = true;
          const other = new Date(T0 + 60_000).toISOString();
          await store.put({
            id: item.id,
            state: 'running',
            owner: 'other',
            occurrence: other,
            staleAt: T0 + 115_000,
            startedAt: T0 + 60_000,
            leaseUntil: T0 + 3660_000,
            taskArn: taskArn(7),
          });
        }
        return store.put(item, condition);
      },
    });
    expect(await runOccurrence({ ...deps, store: racing }, occurrence(nightly), 'retry')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(7) });
    expect(runTaskCalls()).toHaveLength(0);
  });

  it('a slot that keeps changing hands while we judge it: the occurrence is skipped, never started beside another run', async () => {
    await runOccurrence(deps, occurrence(nightly), 'a');
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(1), lastStatus: 'STOPPED' }] });
    let n = 100;
    const contended = intercept({
      put: async (item, condition) => {
        // Another occurrence replaces the holder we judged just before our conditional write.
        if (item.id === jobSlotId('nightly') && condition?.refusal === 'not-owner') {
          const holder = await store.get<JobSlot>(item.id);
          await store.put({ ...holder!, owner: `other-${++n}`, taskArn: taskArn(n) });
        }
        return store.put(item, condition);
      },
    });
    now = T0 + 600_000;
    const logs = watchLogs();
    const result = await runOccurrence({ ...deps, store: contended }, occurrence(nightly, now), 'b');
    expect(result).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(n) });
    expect(logs[0]).toEqual(['warn', expect.stringMatching(/skipped/), expect.objectContaining({ why: 'the slot kept changing hands' })]);
    expect(runTaskCalls()).toHaveLength(1);
    // Two rounds of judging, then it gives up.
    expect(n).toBe(102);
  });

  it('a holder that died while starting is judged through ECS from exactly its staleAt', async () => {
    const died = new Date(T0).toISOString();
    await putDeadStartingSlot(died);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(6)] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: taskArn(6), lastStatus: 'RUNNING', tags: taskTags(died) }] });
    now = T0 + 60_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(6) });
  });

  it("only a live task tagged with the dead holder's occurrence counts as its run; any other live run of the job still blocks", async () => {
    const died = new Date(T0).toISOString();
    await putDeadStartingSlot(died);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(4), taskArn(5), taskArn(6)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        // Started and already stopped (ListTasks by desired status lags behind).
        { taskArn: taskArn(4), lastStatus: 'STOPPED', tags: taskTags(died) },
        // Another occurrence's run, and one started by hand with the job's startedBy but no tags.
        { taskArn: taskArn(5), lastStatus: 'RUNNING', tags: taskTags('2026-11-22T02:00:00.000Z') },
        { taskArn: taskArn(6), lastStatus: 'RUNNING' },
      ],
    });
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(5) });
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({ state: 'running', taskArn: taskArn(5), occurrence: '2026-11-22T02:00:00.000Z' });
    expect(runTaskCalls()).toHaveLength(0);
  });

  it("asks DescribeTasks about at most 100 of the job's live tasks (its limit)", async () => {
    const died = new Date(T0).toISOString();
    await putDeadStartingSlot(died);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: Array.from({ length: 120 }, (_, i) => taskArn(100 + i)) });
    ecsMock.on(DescribeTasksCommand).callsFake(async (input: { tasks: string[] }) => {
      if (input.tasks.length > 100) throw Object.assign(new Error('tasks can have at most 100 items'), { name: 'InvalidParameterException' });
      return { tasks: input.tasks.map((arn) => ({ taskArn: arn, lastStatus: 'RUNNING', tags: taskTags('2026-11-20T02:00:00.000Z') })) };
    });
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(nightly, now), 'next')).toMatchObject({ outcome: 'skipped' });
    expect(ecsMock.commandCalls(DescribeTasksCommand).every((c) => c.args[0].input.tasks!.length <= 100)).toBe(true);
  });
});

describe('slotDecision at its boundaries, and the why it gives', () => {
  const slot: JobSlot = {
    id: 'job#x',
    state: 'running',
    owner: 'o',
    occurrence: 'o1',
    staleAt: T0 + 30_000,
    startedAt: T0,
    leaseUntil: T0 + 3600_000,
    taskArn: taskArn(1),
  };

  it('a starting slot is stale exactly at its staleAt', () => {
    const starting: JobSlot = { ...slot, state: 'starting', taskArn: undefined };
    expect(slotDecision(starting, {}, T0 + 29_999)).toEqual({ blocks: true, why: 'occurrence o1 is starting a task right now' });
    expect(slotDecision(starting, {}, T0 + 30_000)).toEqual({
      blocks: false,
      why: 'occurrence o1 died while starting (stale since 2026-11-23T02:00:30.000Z) and ECS runs no task of it',
    });
  });

  it('a task missing from ECS still blocks at exactly the grace, and not after', () => {
    expect(slotDecision(slot, { status: 'MISSING' }, T0 + MISSING_GRACE_MS)).toEqual({
      blocks: true,
      why: `${taskArn(1)} started moments ago and is not visible yet`,
    });
    expect(slotDecision(slot, { status: 'MISSING' }, T0 + MISSING_GRACE_MS + 1)).toEqual({ blocks: false, why: `${taskArn(1)} is no longer known to ECS` });
  });

  it('the why names the expiry and the last status, or says it is unknown', () => {
    expect(slotDecision(slot, { status: 'RUNNING' }, T0 + 3600_000).why).toBe(
      `lease of ${taskArn(1)} expired at 2026-11-23T03:00:00.000Z (last status RUNNING)`,
    );
    expect(slotDecision(slot, {}, T0 + 3600_000).why).toBe(`lease of ${taskArn(1)} expired at 2026-11-23T03:00:00.000Z (last status unknown)`);
    expect(slotDecision(slot, { status: 'STOPPED' }, T0 + 10_000).why).toBe(`${taskArn(1)} is STOPPED (its STOPPED event was not processed)`);
    expect(slotDecision(slot, { status: 'PENDING' }, T0 + 10_000).why).toBe(`${taskArn(1)} is PENDING`);
    expect(slotDecision(slot, {}, T0 + 10_000)).toEqual({ blocks: true, why: `${taskArn(1)} is running` });
  });
});

describe('task-lock: ECS, not the table, says whether a run is going (overlap skip)', () => {
  const prev = '2026-11-23T01:00:00.000Z';
  const live = (n: number, occ: string, createdAt: number, lastStatus = 'RUNNING') => ({
    taskArn: taskArn(n),
    lastStatus,
    createdAt: new Date(createdAt),
    tags: taskTags(occ),
  });
  const ecsRuns = (...tasks: ReturnType<typeof live>[]) => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn) });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks });
  };

  it('normal path: a free job costs one ListTasks and no DescribeTasks before RunTask', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    expect(await runOccurrence(deps, occurrence(nightly), 'a')).toMatchObject({ outcome: 'started' });
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(1);
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('a job slot deleted by hand mid-run: the next occurrence finds the run through ECS, skips, and the slot holds that run again', async () => {
    ecsRuns(live(7, prev, T0 - 600_000));
    const logs = watchLogs();
    expect(await runOccurrence(deps, occurrence(nightly), 'a')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(7) });
    expect(runTaskCalls()).toHaveLength(0);
    expect(metricCount('OverlapSkipped')).toBe(1);
    expect(metricCount('JobOverrun')).toBe(0);
    expect(logs).toContainEqual([
      'warn',
      expect.stringMatching(/still active/),
      expect.objectContaining({ runningTaskArn: taskArn(7), runningOccurrence: prev }),
    ]);
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({
      state: 'running',
      taskArn: taskArn(7),
      occurrence: prev,
      leaseUntil: T0 - 600_000 + 3600_000,
    });
    // Its STOPPED event frees the job as for any run.
    expect(await releaseOnStopped(deps, stoppedOf(taskArn(7)))).toEqual({ released: true, job: 'nightly' });
  });

  it('a task stuck in PENDING past maxRunSeconds is an overrun: skipped by default, with JobOverrun and a WARN line', async () => {
    // Its slot lease expired, so the table alone would start a second task beside it.
    await store.put({
      id: jobSlotId('nightly'),
      state: 'running',
      owner: 'x',
      occurrence: prev,
      staleAt: T0 - 3600_000,
      startedAt: T0 - 3600_000,
      leaseUntil: T0,
      taskArn: taskArn(7),
    });
    ecsRuns(live(7, prev, T0 - 3600_000, 'PENDING'));
    const logs = watchLogs();
    expect(await runOccurrence(deps, occurrence(nightly), 'a')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(7) });
    expect(runTaskCalls()).toHaveLength(0);
    expect(metricCount('JobOverrun')).toBe(1);
    expect(logs).toContainEqual([
      'warn',
      expect.stringMatching(/overran maxRunSeconds \(3600 s\) and is still PENDING/),
      expect.objectContaining({ runningTaskArn: taskArn(7) }),
    ]);
  });

  it('onOverrun stop-previous: StopTask with a reason naming both occurrences, then the new run starts', async () => {
    const job = { ...nightly, onOverrun: 'stop-previous' as const };
    ecsRuns(live(7, prev, T0 - 3600_000));
    ecsMock.on(StopTaskCommand).resolves({});
    expect(await runOccurrence({ ...deps, jobs: [job] }, occurrence(job), 'a')).toEqual({ outcome: 'started', taskArn: taskArn(1) });
    const stop = ecsMock.commandCalls(StopTaskCommand)[0]!.args[0].input;
    expect(stop).toEqual({
      cluster: 'prod',
      task: taskArn(7),
      reason: `ecs-caretaker task-lock: job nightly occurrence ${occurrence(job).occurrence} replaces the run of ${prev}, which overran maxRunSeconds 3600`,
    });
    expect(metricCount('PreviousRunStopped')).toBe(1);
    expect(metricCount('JobOverrun')).toBe(1);
  });

  it('onOverrun stop-previous never starts beside a run it could not stop', async () => {
    const job = { ...nightly, onOverrun: 'stop-previous' as const };
    ecsRuns(live(7, prev, T0 - 3600_000));
    ecsMock.on(StopTaskCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await runOccurrence({ ...deps, jobs: [job] }, occurrence(job), 'a')).toEqual({ outcome: 'skipped', runningTaskArn: taskArn(7) });
    expect(runTaskCalls()).toHaveLength(0);
    expect(metricCount('StopPreviousFailed')).toBe(1);
  });

  it('onOverrun stop-previous leaves a run within maxRunSeconds alone', async () => {
    const job = { ...nightly, onOverrun: 'stop-previous' as const };
    ecsRuns(live(7, prev, T0 - 3599_000));
    expect(await runOccurrence({ ...deps, jobs: [job] }, occurrence(job), 'a')).toMatchObject({ outcome: 'skipped' });
    expect(ecsMock.commandCalls(StopTaskCommand)).toHaveLength(0);
  });

  it('onOverrun allow starts beside an overrun, and says so', async () => {
    const job = { ...nightly, onOverrun: 'allow' as const };
    ecsRuns(live(7, prev, T0 - 3600_000));
    expect(await runOccurrence({ ...deps, jobs: [job] }, occurrence(job), 'a')).toMatchObject({ outcome: 'started' });
    expect(metricCount('JobOverrun')).toBe(1);
  });

  it("ECS cannot answer: the slot's lease decides alone, and the failed check is counted", async () => {
    ecsMock.on(ListTasksCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await runOccurrence(deps, occurrence(nightly), 'a')).toMatchObject({ outcome: 'started' });
    expect(metricCount('OverlapCheckFailed')).toBe(1);
    // ... and the lease still blocks the next occurrence while ECS is down.
    ecsMock.on(DescribeTasksCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(runOccurrence(deps, occurrence(nightly, T0 + 600_000), 'b')).rejects.toThrow('Rate exceeded');
    expect(runTaskCalls()).toHaveLength(1);
  });

  it("an earlier delivery's RunTask applied with its answer lost: the retry finds that task through ECS and records it, starting nothing", async () => {
    ecsMock.on(RunTaskCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(runOccurrence(deps, occurrence(nightly), 'first')).rejects.toThrow('socket hang up');
    ecsRuns(live(8, occurrence(nightly).occurrence, T0));
    now = T0 + 60_000;
    expect(await runOccurrence(deps, occurrence(nightly), 'retry')).toEqual({ outcome: 'started', taskArn: taskArn(8) });
    expect(runTaskCalls()).toHaveLength(1);
    expect(await store.get(occurrenceLockId('nightly', occurrence(nightly).occurrence))).toMatchObject({ state: 'started', taskArn: taskArn(8) });
    expect(await store.get<JobSlot>(jobSlotId('nightly'))).toMatchObject({ state: 'running', taskArn: taskArn(8) });
  });
});

describe('overlapDecision', () => {
  const job = { maxRunSeconds: 600, onOverrun: 'skip' as const };
  const task = (n: number, occ: string | undefined, createdAt?: number) => ({ taskArn: taskArn(n), occurrence: occ, createdAt });

  it('a run is overrun from exactly maxRunSeconds after ECS created it', () => {
    expect(overlapDecision(job, 'o2', [task(1, 'o1', T0)], T0 + 599_999)).toEqual({ action: 'skip', task: task(1, 'o1', T0), overrun: false });
    expect(overlapDecision(job, 'o2', [task(1, 'o1', T0)], T0 + 600_000)).toEqual({ action: 'skip', task: task(1, 'o1', T0), overrun: true });
  });

  it('a task of unknown age (not described yet) blocks and is not called an overrun', () => {
    expect(overlapDecision({ ...job, onOverrun: 'stop-previous' }, 'o2', [task(1, undefined)], T0)).toMatchObject({ action: 'skip', overrun: false });
  });

  it("the occurrence's own task wins over everything else", () => {
    expect(overlapDecision(job, 'o2', [task(1, 'o1', T0), task(2, 'o2', T0)], T0)).toMatchObject({ action: 'adopt', task: { taskArn: taskArn(2) } });
  });

  it('stop-previous stops every overrun run, and only when all of them overran', () => {
    const stop = { ...job, onOverrun: 'stop-previous' as const };
    expect(overlapDecision(stop, 'o3', [task(1, 'o1', T0), task(2, 'o2', T0 + 300_000)], T0 + 700_000)).toMatchObject({ action: 'skip', overrun: false });
    expect(overlapDecision(stop, 'o3', [task(1, 'o1', T0), task(2, 'o2', T0)], T0 + 700_000)).toMatchObject({ action: 'stop-previous' });
  });

  it('the StopTask reason fits its 255 characters', () => {
    const long = { ...nightly, name: 'j'.repeat(40), maxRunSeconds: 14 * 24 * 3600 };
    expect(stopReasonFor(long, '2026-11-23T02:00:00.000Z', { taskArn: taskArn(1), occurrence: '2026-11-22T02:00:00.000Z' }).length).toBeLessThanOrEqual(255);
  });
});

describe('task-lock: stale occurrences are refused', () => {
  it('a redrive 25 h later starts nothing, writes nothing, and says why (the clientToken is gone by then)', async () => {
    const before = await store.get(occurrenceLockId('nightly', occurrence(nightly).occurrence));
    expect(before).toBeUndefined();
    now = T0 + 25 * 3600_000;
    const logs = watchLogs();
    expect(await runOccurrence(deps, occurrence(nightly), 'redrive')).toEqual({ outcome: 'too-late', lateSeconds: 25 * 3600, maxDelaySeconds: 3600 });
    expect(runTaskCalls()).toHaveLength(0);
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(await store.get(occurrenceLockId('nightly', occurrence(nightly).occurrence))).toBeUndefined();
    expect(metricCount('OccurrenceTooLate')).toBe(1);
    expect(logs).toEqual([
      [
        'warn',
        'Occurrence refused, too late: the next occurrence is due',
        expect.objectContaining({ job: 'nightly', lateSeconds: 90_000, maxDelaySeconds: 3600 }),
      ],
    ]);
  });

  it('the default is one schedule period: a 5-minute job refuses a delivery 301 s late, not one 300 s late', async () => {
    const every5 = parseConfig({
      clusters: [{ name: 'prod' }],
      jobs: [{ name: 'poll', cluster: 'prod', taskDefinition: 'poll', schedule: { expression: 'rate(5 minutes)' }, maxRunSeconds: 600 }],
    }).jobs[0]!;
    now = T0 + 300_000;
    expect(await runOccurrence(deps, occurrence(every5), 'a')).toMatchObject({ outcome: 'started' });
    now = T0 + 5 * 60_000 + 301_000;
    expect(await runOccurrence(deps, occurrence(every5, T0 + 5 * 60_000), 'b')).toMatchObject({ outcome: 'too-late', maxDelaySeconds: 300 });
  });

  it('a configured maxDelaySeconds wins over the schedule period', async () => {
    now = T0 + 120_000;
    expect(await runOccurrence(deps, occurrence({ ...nightly, maxDelaySeconds: 60 }), 'a')).toMatchObject({ outcome: 'too-late', lateSeconds: 120 });
  });
});
