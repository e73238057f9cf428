import { createHash } from 'node:crypto';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { maxDelaySecondsOf, type Job } from '../shared/config.ts';
import type { MetricName } from '../shared/metric-names.ts';
import { allOf, inState, ownedBy, putIfAbsent, releaseItem, ttlAfter, type Condition, type Item, type Store } from '../shared/store.ts';
import type { Invocation } from './invocation.ts';

export interface TaskLockDeps {
  ecs: ECSClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** How long this invocation may still run; a lock older than that belongs to a dead invocation. */
  remainingMs: () => number;
  jobs: readonly Job[];
  lockRetentionHours: number;
  /** The stack, `<service>-<stage>`: part of every task's identity in ECS. */
  deployment: string;
}

export type OccurrenceOutcome =
  | { outcome: 'started'; taskArn: string }
  | { outcome: 'duplicate'; taskArn?: string; state: string }
  | { outcome: 'skipped'; runningTaskArn?: string }
  | { outcome: 'too-late'; lateSeconds: number; maxDelaySeconds: number };

/** RunTask did not start the task; thrown after the lock is released so that Lambda's async retry runs the occurrence again. */
export class RunTaskFailedError extends Error {
  override name = 'RunTaskFailedError';
}

// startedBy: up to 36 letters, numbers, '-', '/' and '_' (ECS API reference, RunTask). A value per
// deployment and job lets the STOPPED event name its job without another lookup, and keeps two
// stacks that share a cluster and a job name (prod and staging) out of each other's runs.
const STARTED_BY_PREFIX = 'ecs-caretaker-lock/';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
export const startedByFor = (deployment: string, jobName: string): string =>
  STARTED_BY_PREFIX + sha256(`${deployment}\n${jobName}`).slice(0, 36 - STARTED_BY_PREFIX.length);
export const isTaskLockStartedBy = (startedBy: string): boolean => startedBy.startsWith(STARTED_BY_PREFIX);

// RunTask's clientToken (≤ 64 ASCII characters, kept 24 h per cluster) makes a
// retried RunTask for the same occurrence return the first task instead of a
// second one (ECS API reference, "Ensuring idempotency"). The deployment is
// part of it: the same token from another stack would adopt that stack's task,
// or fail with "The clientToken was already used with different parameters".
// A new token is used only after a definite failure (see runOccurrence).
export const clientTokenFor = (deployment: string, jobName: string, occurrence: string, attempt = 0): string =>
  `ecs-caretaker-${sha256(`${deployment}\n${jobName}\n${occurrence}\n${attempt}`).slice(0, 48)}`;

export const occurrenceLockId = (jobName: string, occurrence: string): string => `lock#${jobName}#${occurrence}`;
export const jobSlotId = (jobName: string): string => `job#${jobName}`;

export interface OccurrenceLock extends Item {
  state: 'starting' | 'started' | 'skipped' | 'failed';
  owner: string;
  staleAt: number;
  /** Bumped after each definite RunTask failure, to derive a fresh clientToken. */
  tokenAttempt: number;
  taskArn?: string;
}

export interface JobSlot extends Item {
  state: 'starting' | 'running';
  owner: string;
  occurrence: string;
  staleAt: number;
  startedAt: number;
  leaseUntil: number;
  taskArn?: string;
}

/**
 * One count with the Job dimension. A single-metric object flushes at once, so
 * the dimension never leaks into another invocation's metrics.
 */
function count(metrics: Metrics, name: MetricName, job: string): void {
  const single = metrics.singleMetric();
  single.addDimension('Job', job);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** What DescribeTasks says of the task holding the slot. MISSING: ECS no longer (or not yet) knows it. */
export type TaskStatus = string | 'MISSING';

/**
 * What ECS says of the slot's holder: for a running holder, its task's status;
 * for a holder that died while starting, the task it started before dying, if any.
 */
export interface HolderEvidence {
  status?: TaskStatus;
  startedTaskArn?: string;
}

// ECS reads are eventually consistent (ECS API reference, RunTask): a task a
// few seconds old can be MISSING from DescribeTasks. Only an older one that is
// missing is really gone (stopped tasks stay visible for at least an hour).
export const MISSING_GRACE_MS = 5 * 60_000;

/**
 * Does the slot's holder still block a new run? Pure: the caller has read the
 * slot and asked ECS about it.
 */
export function slotDecision(slot: JobSlot, evidence: HolderEvidence, now: number): { blocks: boolean; why: string } {
  if (slot.state === 'starting') {
    if (slot.staleAt > now) return { blocks: true, why: `occurrence ${slot.occurrence} is starting a task right now` };
    return evidence.startedTaskArn
      ? { blocks: true, why: `occurrence ${slot.occurrence} died after starting ${evidence.startedTaskArn}, which is still running` }
      : {
          blocks: false,
          why: `occurrence ${slot.occurrence} died while starting (stale since ${new Date(slot.staleAt).toISOString()}) and ECS runs no task of it`,
        };
  }
  const { status } = evidence;
  if (slot.leaseUntil <= now)
    return { blocks: false, why: `lease of ${slot.taskArn} expired at ${new Date(slot.leaseUntil).toISOString()} (last status ${status ?? 'unknown'})` };
  if (status === 'STOPPED') return { blocks: false, why: `${slot.taskArn} is STOPPED (its STOPPED event was not processed)` };
  if (status === 'MISSING') {
    return now - slot.startedAt > MISSING_GRACE_MS
      ? { blocks: false, why: `${slot.taskArn} is no longer known to ECS` }
      : { blocks: true, why: `${slot.taskArn} started moments ago and is not visible yet` };
  }
  return { blocks: true, why: `${slot.taskArn} is ${status ?? 'running'}` };
}

async function describeStatus(ecs: ECSClient, cluster: string, taskArn: string): Promise<TaskStatus> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
  const task = out.tasks?.find((t) => t.taskArn === taskArn);
  return task?.lastStatus ?? 'MISSING';
}

const OCCURRENCE_TAG = 'ecs-caretaker:occurrence';

/** A task of the job that ECS still wants RUNNING: PENDING, starting or running. */
export interface LiveTask {
  taskArn: string;
  lastStatus?: string;
  /** Its occurrence tag; absent when DescribeTasks did not (yet) show the task. */
  occurrence?: string;
  /** When ECS created it (epoch ms), so that time spent PENDING counts towards maxRunSeconds. */
  createdAt?: number;
}

/**
 * Every task of the job that ECS wants RUNNING. ListTasks lists by desired
 * status, RUNNING by default, which a PENDING task has too: ECS never sets a
 * desired status of PENDING. "When you specify startedBy as the filter, it must
 * be the only filter that you use" (ECS API reference, ListTasks), hence no
 * desiredStatus parameter. Under `skip` a job has at most a handful of live
 * tasks, so one page (up to 100) holds them all. The normal answer, no task,
 * costs this one call.
 */
async function liveTasks(ecs: ECSClient, deployment: string, job: Job): Promise<LiveTask[]> {
  const listed = await ecs.send(new ListTasksCommand({ cluster: job.cluster, startedBy: startedByFor(deployment, job.name) }));
  const arns = (listed?.taskArns ?? []).slice(0, 100); // DescribeTasks takes at most 100 tasks (API reference)
  if (!arns.length) return [];
  const described = await ecs.send(new DescribeTasksCommand({ cluster: job.cluster, tasks: arns, include: ['TAGS'] }));
  const byArn = new Map((described?.tasks ?? []).map((t) => [t.taskArn, t]));
  // A listed task DescribeTasks does not show yet is still counted, with what little is known of it.
  return arns
    .map((arn) => ({ arn, task: byArn.get(arn) }))
    .filter(({ task }) => task?.lastStatus !== 'STOPPED')
    .map(({ arn, task }) => ({
      taskArn: arn,
      lastStatus: task?.lastStatus,
      occurrence: task?.tags?.find((tag) => tag.key === OCCURRENCE_TAG)?.value,
      createdAt: task?.createdAt ? new Date(task.createdAt).getTime() : undefined,
    }));
}

/**
 * The job's task that `occurrence` started and ECS still wants RUNNING, if any.
 * Only asked of a holder that died while starting: its RunTask may have
 * succeeded without the slot hearing of it. That RunTask happened before its
 * Lambda deadline, so at least 30 s ago (staleAt), past ECS's read delay.
 */
async function findStartedTask(ecs: ECSClient, deployment: string, job: Job, occurrence: string): Promise<string | undefined> {
  return (await liveTasks(ecs, deployment, job)).find((t) => t.occurrence === occurrence)?.taskArn;
}

export type OverlapDecision =
  | { action: 'start' }
  /** An earlier delivery of this occurrence started it, and its answer was lost. */
  | { action: 'adopt'; task: LiveTask }
  | { action: 'skip'; task: LiveTask; overrun: boolean }
  | { action: 'stop-previous'; tasks: LiveTask[] }
  | { action: 'start-beside'; tasks: LiveTask[] };

/** A run overran once it has existed maxRunSeconds, PENDING included. Unknown age: not proven, so it still blocks. */
export const overran = (task: LiveTask, maxRunSeconds: number, now: number): boolean =>
  task.createdAt !== undefined && now - task.createdAt >= maxRunSeconds * 1000;

/** What ECS's live tasks of a `skip` job mean for `occurrence`. Pure. */
export function overlapDecision(job: Pick<Job, 'maxRunSeconds' | 'onOverrun'>, occurrence: string, tasks: readonly LiveTask[], now: number): OverlapDecision {
  const own = tasks.find((t) => t.occurrence === occurrence);
  if (own) return { action: 'adopt', task: own };
  if (!tasks.length) return { action: 'start' };
  const young = tasks.find((t) => !overran(t, job.maxRunSeconds, now));
  if (young) return { action: 'skip', task: young, overrun: false };
  if (job.onOverrun === 'stop-previous') return { action: 'stop-previous', tasks: [...tasks] };
  if (job.onOverrun === 'allow') return { action: 'start-beside', tasks: [...tasks] };
  return { action: 'skip', task: tasks[0]!, overrun: true };
}

// "Up to 255 characters are allowed in this message" (ECS API reference, StopTask: reason).
const STOP_REASON_MAX = 255;
export const stopReasonFor = (job: Job, occurrence: string, task: LiveTask): string =>
  `ecs-caretaker task-lock: job ${job.name} occurrence ${occurrence} replaces the run of ${task.occurrence ?? 'an unknown occurrence'}, which overran maxRunSeconds ${job.maxRunSeconds}`.slice(
    0,
    STOP_REASON_MAX,
  );

async function holderEvidence(deps: TaskLockDeps, job: Job, holder: JobSlot): Promise<HolderEvidence> {
  if (holder.state === 'running' && holder.taskArn) return { status: await describeStatus(deps.ecs, job.cluster, holder.taskArn) };
  if (holder.state === 'starting' && holder.staleAt <= deps.now())
    return { startedTaskArn: await findStartedTask(deps.ecs, deps.deployment, job, holder.occurrence) };
  return {};
}

export function runTaskInput(deployment: string, job: Job, occurrence: string, tokenAttempt = 0): RunTaskCommandInput {
  return {
    cluster: job.cluster,
    taskDefinition: job.taskDefinition,
    count: 1,
    launchType: job.launchType,
    capacityProviderStrategy: job.capacityProviderStrategy,
    networkConfiguration: job.networkConfiguration,
    overrides: job.overrides as RunTaskCommandInput['overrides'],
    startedBy: startedByFor(deployment, job.name),
    clientToken: clientTokenFor(deployment, job.name, occurrence, tokenAttempt),
    tags: [
      { key: 'ecs-caretaker:deployment', value: deployment },
      { key: 'ecs-caretaker:job', value: job.name },
      { key: OCCURRENCE_TAG, value: occurrence },
    ],
  };
}

/**
 * A holder that died after its RunTask left the slot `starting` with no task.
 * Recording the task it started lets that task's STOPPED event, or its lease,
 * free the job as for any run.
 */
async function adoptStartedTask(deps: TaskLockDeps, holder: JobSlot, taskArn: string | undefined, holderIs: Condition): Promise<JobSlot> {
  if (!taskArn) return holder;
  await deps.store.update(holder.id, { set: { state: 'running', taskArn } }, holderIs);
  return { ...holder, state: 'running', taskArn };
}

/**
 * Takes the job's slot for this occurrence, or says who holds it. A holder is
 * only believed after ECS confirms its task is not STOPPED.
 */
async function acquireJobSlot(
  deps: TaskLockDeps,
  job: Job,
  occurrence: string,
  owner: string,
  staleAt: number,
): Promise<{ ok: true; replaced?: JobSlot; why?: string } | { ok: false; holder: JobSlot; why: string }> {
  const now = deps.now();
  const id = jobSlotId(job.name);
  const fresh: JobSlot = {
    id,
    state: 'starting',
    owner,
    occurrence,
    staleAt,
    startedAt: now,
    leaseUntil: now + job.maxRunSeconds * 1000,
    expiration: ttlAfter(now, job.maxRunSeconds + 86_400),
  };
  if ((await putIfAbsent(deps.store, fresh)).ok) return { ok: true };

  // Two rounds: the holder may release or be replaced between our read and our write.
  for (let round = 0; round < 2; round++) {
    const holder = await deps.store.get<JobSlot>(id);
    if (!holder) {
      if ((await putIfAbsent(deps.store, fresh)).ok) return { ok: true };
      continue;
    }
    const holderIs = ownedBy(holder.owner);
    if (holder.occurrence === occurrence) {
      // We hold this occurrence's lock, so the holder is an earlier delivery of
      // it that failed or died. Its task, if it recorded one, is this
      // occurrence's; if not, RunTask with the same clientToken returns any task it started.
      if (holder.taskArn) return { ok: false, holder, why: `this occurrence already started ${holder.taskArn}` };
      if ((await deps.store.put(fresh, holderIs)).ok)
        return { ok: true, replaced: holder, why: 'an earlier delivery of this occurrence stopped before starting its task' };
      continue;
    }
    const evidence = await holderEvidence(deps, job, holder);
    const decision = slotDecision(holder, evidence, deps.now());
    if (decision.blocks) return { ok: false, holder: await adoptStartedTask(deps, holder, evidence.startedTaskArn, holderIs), why: decision.why };
    // Replace exactly the holder we judged, not one that arrived since.
    if ((await deps.store.put(fresh, holderIs)).ok) return { ok: true, replaced: holder, why: decision.why };
  }
  const holder = await deps.store.get<JobSlot>(id);
  return { ok: false, holder: holder ?? fresh, why: 'the slot kept changing hands' };
}

/**
 * Leaves the occurrence lock `failed`, which the next delivery (Lambda's async retry) may take over.
 * Only a definite failure frees the job: after an ambiguous one the task may
 * run, so the slot stays `starting` with this occurrence, and whoever comes
 * next (this occurrence's retry or the next occurrence) asks ECS about it first.
 */
async function releaseAfterFailure(
  deps: TaskLockDeps,
  job: Job,
  occurrence: string,
  owner: string,
  failure: { definite: boolean; tokenAttempt: number },
): Promise<void> {
  // Slot first: once the lock says `failed`, a duplicate may take the
  // occurrence over, and must not find the job still held by this very occurrence.
  if (job.overlap === 'skip' && failure.definite) await releaseItem(deps.store, jobSlotId(job.name), owner);
  await deps.store.update(occurrenceLockId(job.name, occurrence), { set: { state: 'failed', tokenAttempt: failure.tokenAttempt } }, ownedBy(owner));
}

/**
 * Takes the occurrence lock, or says why this delivery must start nothing.
 * A lock left `failed` (RunTask started nothing) or `starting` by an
 * invocation that died is taken over by the retry.
 */
async function acquireOccurrence(
  deps: TaskLockDeps,
  lock: OccurrenceLock,
  now: number,
): Promise<{ ok: true; previous?: OccurrenceLock } | { ok: false; existing: OccurrenceLock }> {
  if ((await putIfAbsent(deps.store, lock)).ok) return { ok: true };
  const existing = await deps.store.get<OccurrenceLock>(lock.id);
  if (!existing) return (await putIfAbsent(deps.store, lock)).ok ? { ok: true } : { ok: false, existing: lock };
  const takeover = existing.state === 'failed' || (existing.state === 'starting' && existing.staleAt <= now);
  if (!takeover) return { ok: false, existing };
  const next = { ...lock, tokenAttempt: existing.tokenAttempt };
  // Exactly the lock we judged: the same owner, still in the state that allowed the takeover.
  const won = await deps.store.put(next, allOf([ownedBy(existing.owner), inState(existing.state)], 'stale'));
  return won.ok ? { ok: true, previous: existing } : { ok: false, existing };
}

type LogContext = Record<string, unknown>;

/** Points the job slot (ours now) at a run ECS says is going, so that its STOPPED event, or its lease, frees the job. */
async function holdSlotFor(deps: TaskLockDeps, job: Job, owner: string, task: LiveTask): Promise<void> {
  const startedAt = task.createdAt ?? deps.now();
  await deps.store.update(
    jobSlotId(job.name),
    {
      set: {
        state: 'running',
        taskArn: task.taskArn,
        occurrence: task.occurrence ?? 'unknown',
        startedAt,
        leaseUntil: startedAt + job.maxRunSeconds * 1000,
      },
    },
    ownedBy(owner),
  );
}

/**
 * ECS, not the table, says whether a run of the job is going: the slot can be
 * deleted by hand, its lease can expire under a run that overran, and an
 * ambiguous RunTask may have started a task nobody recorded. Returns the
 * outcome when the occurrence must not start a task, undefined when it may.
 */
async function checkEcs(
  deps: TaskLockDeps,
  job: Job,
  occurrence: string,
  owner: string,
  lockId: string,
  ctx: LogContext,
): Promise<OccurrenceOutcome | undefined> {
  const { store, logger, metrics } = deps;
  let tasks: LiveTask[];
  try {
    tasks = await liveTasks(deps.ecs, deps.deployment, job);
  } catch (error) {
    // The slot, taken or judged above, is the fallback: it blocks a run it knows of for its lease.
    logger.warn("ECS did not say whether a run of the job is going: the job slot's lease decides alone", { ...ctx, error: error as Error });
    count(metrics, 'OverlapCheckFailed', job.name);
    return undefined;
  }
  const decision = overlapDecision(job, occurrence, tasks, deps.now());
  switch (decision.action) {
    case 'start':
      return undefined;
    case 'adopt': {
      const { taskArn } = decision.task;
      await store.update(jobSlotId(job.name), { set: { state: 'running', taskArn } }, ownedBy(owner));
      await store.update(lockId, { set: { state: 'started', taskArn } });
      logger.info('Occurrence had already started its task: an earlier RunTask applied but its answer was lost', { ...ctx, taskArn });
      count(metrics, 'OccurrenceStarted', job.name);
      return { outcome: 'started', taskArn };
    }
    case 'start-beside':
      logger.warn('Previous run overran maxRunSeconds: starting beside it (onOverrun allow)', {
        ...ctx,
        overrunTaskArns: decision.tasks.map((t) => t.taskArn),
      });
      count(metrics, 'JobOverrun', job.name);
      return undefined;
    case 'stop-previous': {
      try {
        for (const task of decision.tasks) {
          await deps.ecs.send(new StopTaskCommand({ cluster: job.cluster, task: task.taskArn, reason: stopReasonFor(job, occurrence, task) }));
        }
      } catch (error) {
        logger.error('Previous run overran maxRunSeconds and StopTask failed: occurrence skipped, never started beside it', {
          ...ctx,
          overrunTaskArns: decision.tasks.map((t) => t.taskArn),
          error: error as Error,
        });
        count(metrics, 'StopPreviousFailed', job.name);
        return skip(deps, job, owner, lockId, ctx, decision.tasks[0]!, true);
      }
      logger.warn('Previous run overran maxRunSeconds: stopped it (onOverrun stop-previous)', {
        ...ctx,
        stoppedTaskArns: decision.tasks.map((t) => t.taskArn),
      });
      count(metrics, 'JobOverrun', job.name);
      count(metrics, 'PreviousRunStopped', job.name);
      return undefined;
    }
    case 'skip':
      return skip(deps, job, owner, lockId, ctx, decision.task, decision.overrun);
  }
}

async function skip(
  deps: TaskLockDeps,
  job: Job,
  owner: string,
  lockId: string,
  ctx: LogContext,
  task: LiveTask,
  overrun: boolean,
): Promise<OccurrenceOutcome> {
  await holdSlotFor(deps, job, owner, task);
  await deps.store.update(lockId, { set: { state: 'skipped', skippedFor: task.taskArn } });
  const seen = { runningTaskArn: task.taskArn, runningOccurrence: task.occurrence, lastStatus: task.lastStatus };
  if (overrun) {
    deps.logger.warn(`Previous run overran maxRunSeconds (${job.maxRunSeconds} s) and is still ${task.lastStatus ?? 'going'}: occurrence skipped`, {
      ...ctx,
      ...seen,
    });
    count(deps.metrics, 'JobOverrun', job.name);
  } else {
    deps.logger.warn('Previous run still active (ECS): occurrence skipped', { ...ctx, ...seen });
  }
  count(deps.metrics, 'OverlapSkipped', job.name);
  return { outcome: 'skipped', runningTaskArn: task.taskArn };
}

/** One scheduled occurrence: at most one task, whatever the number of deliveries. */
export async function runOccurrence(deps: TaskLockDeps, inv: Extract<Invocation, { kind: 'occurrence' }>, owner: string): Promise<OccurrenceOutcome> {
  const { job, occurrence } = inv;
  const { store, logger, metrics } = deps;
  const lockId = occurrenceLockId(job.name, occurrence);
  const ctx = { job: job.name, cluster: job.cluster, occurrence, deliveryId: inv.deliveryId, via: inv.via };

  const now = deps.now();
  // A delivery this late (a DLQ redrive, a retry after an outage) would run beside or after the next
  // occurrence, and past the clientToken's 24 h it could start the occurrence twice: refuse it,
  // without an error, since redriving it again would not make it any less late.
  const lateSeconds = Math.floor((now - Date.parse(occurrence)) / 1000);
  const maxDelaySeconds = maxDelaySecondsOf(job);
  if (lateSeconds > maxDelaySeconds) {
    logger.warn('Occurrence refused, too late: the next occurrence is due', { ...ctx, lateSeconds, maxDelaySeconds });
    count(metrics, 'OccurrenceTooLate', job.name);
    return { outcome: 'too-late', lateSeconds, maxDelaySeconds };
  }
  const staleAt = now + deps.remainingMs() + 30_000;
  const acquired = await acquireOccurrence(
    deps,
    { id: lockId, state: 'starting', owner, staleAt, tokenAttempt: 0, expiration: ttlAfter(now, deps.lockRetentionHours * 3600) },
    now,
  );
  if (!acquired.ok) {
    logger.info('Duplicate delivery of an occurrence: nothing started', { ...ctx, state: acquired.existing.state, taskArn: acquired.existing.taskArn });
    count(metrics, 'DuplicateDelivery', job.name);
    return { outcome: 'duplicate', taskArn: acquired.existing.taskArn, state: acquired.existing.state };
  }
  if (acquired.previous?.state === 'starting') {
    // The previous owner died between taking the lock and recording its task.
    // Its RunTask, if it happened, is returned again through the same clientToken.
    logger.warn('Took over the lock of an invocation that died while starting', { ...ctx, previousOwner: acquired.previous.owner });
    count(metrics, 'LockTakeover', job.name);
  }
  const tokenAttempt = acquired.previous?.tokenAttempt ?? 0;

  if (job.overlap === 'skip') {
    const slot = await acquireJobSlot(deps, job, occurrence, owner, staleAt);
    if (!slot.ok && slot.holder.occurrence === occurrence && slot.holder.taskArn) {
      // A previous delivery of this very occurrence started the task and died before recording it on the lock.
      await store.update(lockId, { set: { state: 'started', taskArn: slot.holder.taskArn } });
      logger.info('Occurrence had already started its task', { ...ctx, taskArn: slot.holder.taskArn });
      return { outcome: 'duplicate', taskArn: slot.holder.taskArn, state: 'started' };
    }
    if (!slot.ok) {
      await store.update(lockId, { set: { state: 'skipped', skippedFor: slot.holder.taskArn ?? slot.holder.occurrence } });
      logger.warn('Previous run still active: occurrence skipped', { ...ctx, runningTaskArn: slot.holder.taskArn, why: slot.why });
      count(metrics, 'OverlapSkipped', job.name);
      return { outcome: 'skipped', runningTaskArn: slot.holder.taskArn };
    }
    if (slot.replaced?.state === 'running' && slot.replaced.leaseUntil <= deps.now()) {
      logger.warn('Previous run outlived its lease (maxRunSeconds); ECS decides whether it still blocks this job', {
        ...ctx,
        previousTaskArn: slot.replaced.taskArn,
        why: slot.why,
      });
      count(metrics, 'LeaseExpired', job.name);
    } else if (slot.replaced) {
      logger.info('Released a stale slot', { ...ctx, previousTaskArn: slot.replaced.taskArn, why: slot.why });
    }
    const checked = await checkEcs(deps, job, occurrence, owner, lockId, ctx);
    if (checked) return checked;
  }

  let taskArn: string | undefined;
  try {
    const out = await deps.ecs.send(new RunTaskCommand(runTaskInput(deps.deployment, job, occurrence, tokenAttempt)));
    taskArn = out.tasks?.[0]?.taskArn;
    if (!taskArn) {
      const reasons = (out.failures ?? []).map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}${f.arn ? ` on ${f.arn}` : ''}`);
      throw new RunTaskFailedError(`RunTask started no task for job "${job.name}" occurrence ${occurrence}: ${reasons.join('; ') || 'no failures reported'}`);
    }
  } catch (error) {
    // failures[] is a definite "nothing started": the retry needs a fresh
    // clientToken, or ECS would replay this answer for 24 h. A thrown call
    // may have started the task, so its retry keeps the token.
    const definite = error instanceof RunTaskFailedError;
    await releaseAfterFailure(deps, job, occurrence, owner, { definite, tokenAttempt: definite ? tokenAttempt + 1 : tokenAttempt });
    logger.error(
      definite
        ? 'RunTask failed: lock released so that the retry runs this occurrence'
        : 'RunTask answer lost: the task may run, so the job stays held until ECS says whether it does',
      { ...ctx, definite, error: error as Error },
    );
    count(metrics, 'RunTaskFailed', job.name);
    throw error;
  }

  if (job.overlap === 'skip') await store.update(jobSlotId(job.name), { set: { state: 'running', taskArn } });
  await store.update(lockId, { set: { state: 'started', taskArn } });
  logger.info('Occurrence started', { ...ctx, taskArn });
  count(metrics, 'OccurrenceStarted', job.name);
  return { outcome: 'started', taskArn };
}

/** The STOPPED event of a task we started frees its job's slot, unless a newer run holds it already. */
export async function releaseOnStopped(deps: TaskLockDeps, inv: Extract<Invocation, { kind: 'task-stopped' }>): Promise<{ released: boolean; job?: string }> {
  const job = deps.jobs.find((j) => startedByFor(deps.deployment, j.name) === inv.startedBy);
  if (!job) {
    deps.logger.info('STOPPED task was not started for a configured job', { taskArn: inv.taskArn, startedBy: inv.startedBy });
    return { released: false };
  }
  const released = (await deps.store.delete(jobSlotId(job.name), { expression: 'taskArn = :arn', values: { ':arn': inv.taskArn }, refusal: 'not-owner' })).ok;
  deps.logger.info(released ? 'Job slot released by STOPPED event' : 'STOPPED event for a task that no longer holds the slot', {
    job: job.name,
    taskArn: inv.taskArn,
    stoppedReason: inv.stoppedReason,
  });
  if (released) count(deps.metrics, 'SlotReleased', job.name);
  return { released, job: job.name };
}
