/**
 * Random task-lock scenarios: three jobs (EventBridge Scheduler with overlap
 * skip and onOverrun stop-previous, an EventBridge rule with skip, Scheduler
 * with overlap allow), each with a few occurrences at random intervals and
 * task run times that may outlast the interval and maxRunSeconds, deliveries
 * duplicated and overtaken, a RunTask that now and then answers failures[],
 * malformed payloads, and the operations nothing else injects: a RunTask
 * applied whose every answer is lost, a job slot deleted by hand, every
 * occurrence redriven 25 h later, and a second stack (staging) running the
 * same jobs on the same cluster.
 */
import fc from 'fast-check';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { scheduleNameFor, settingsFromConfig } from '../../functions/task-lock/settings.ts';
import { createTable } from '../../sim/dynamo.ts';
import type { Deployment } from '../../sim/lambda.ts';
import type { Task } from '../../sim/index.ts';
import { STAGE, TABLE } from './functions.ts';
import type { Invocation, KillPlan } from '../../sim/lambda.ts';
import { scheduledEvent } from '../../sim/eventbridge.ts';
import {
  applyFaults,
  armKill,
  faultPlanArbitrary,
  injectMalformed,
  killPlanArbitrary,
  malformedViolations,
  runUntil,
  subscribeRules,
  timeline,
  validInDlq,
  type FaultPlan,
  type World,
} from './world.ts';

export const CLUSTER = 'batch';

export const TASK_LOCK_CONFIG = {
  clusters: [{ name: CLUSTER }],
  jobs: [
    {
      name: 'nightly',
      cluster: CLUSTER,
      taskDefinition: 'nightly',
      launchType: 'EC2',
      schedule: { expression: 'cron(0 2 * * ? *)', method: 'scheduler' },
      overlap: 'skip',
      // Runs take up to 900 s: the longer ones overrun, and the next occurrence stops them.
      maxRunSeconds: 420,
      onOverrun: 'stop-previous',
    },
    {
      name: 'hourly',
      cluster: CLUSTER,
      taskDefinition: 'hourly',
      launchType: 'EC2',
      schedule: { expression: 'rate(1 hour)', method: 'rule' },
      overlap: 'skip',
      // Overruns are skipped (the default onOverrun): never a second task beside a long run.
      maxRunSeconds: 300,
    },
    {
      name: 'reindex',
      cluster: CLUSTER,
      taskDefinition: 'reindex',
      launchType: 'EC2',
      schedule: { expression: 'rate(30 minutes)', method: 'scheduler' },
      overlap: 'allow',
      maxRunSeconds: 3600,
    },
  ],
} satisfies CaretakerConfigInput;

const config = parseConfig(TASK_LOCK_CONFIG);
const JOBS = config.jobs;
const ruleName = (job: string, stage = STAGE) => scheduleNameFor(config, stage, JOBS.find((j) => j.name === job)!);

/** A second stack of the same jobs on the same cluster, as a staging deployment next to prod would be. */
export const STAGING = { fn: 'task-lock-staging', stage: 'staging', table: 'ecs-caretaker-staging-state' };

/** The staging stack: the same bundle, its own stage, table and schedule names. */
export function stagingDeployment(prod: Deployment): Deployment {
  const settings = settingsFromConfig(config, { stage: STAGING.stage });
  return { ...prod, name: STAGING.fn, env: { ...prod.env, TABLE_NAME: STAGING.table, TASK_LOCK_CONFIG: JSON.stringify(settings) } };
}

export interface JobPlan {
  runSeconds: number;
  firstAtMinutes: number;
  intervalMinutes: number;
  /** Deliveries of each occurrence (EventBridge Scheduler is at-least-once); the rule job's come from the bus faults instead. */
  copies: number[];
  /** Seconds between the scheduled time and each copy. */
  jitterSeconds: number;
}

export type TaskLockMalformed = 'bad-time' | 'unknown-job' | 'stopped-without-arn' | 'not-an-object';

export interface TaskLockScenario {
  seed: number;
  faults: FaultPlan;
  kill: KillPlan;
  jobs: JobPlan[];
  /** A RunTask answering failures[] (RESOURCE:MEMORY), just before this job's occurrence. */
  runTaskFailure: { job: number; occurrence: number } | null;
  /** "RunTask applied, every answer lost": ECS starts the task, and every SDK attempt gets a 500. */
  lostRunTask: { job: number; occurrence: number } | null;
  /** "slot deleted by hand": an operator deletes every job slot from the table, this many minutes in. */
  slotsDeletedAtMinutes: number | null;
  /** "redrive after 25 h": every occurrence is delivered once more, 25 hours after its time. */
  redrive: boolean;
  /** "two stacks, one cluster": a staging stack runs the Scheduler jobs' occurrences too. */
  staging: boolean;
  malformed: TaskLockMalformed[];
}

export const taskLockScenarioArbitrary: fc.Arbitrary<TaskLockScenario> = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  faults: faultPlanArbitrary,
  kill: killPlanArbitrary(12, 8),
  jobs: fc.tuple(
    ...JOBS.map(() =>
      fc.record({
        runSeconds: fc.integer({ min: 30, max: 900 }),
        firstAtMinutes: fc.integer({ min: 1, max: 5 }),
        intervalMinutes: fc.integer({ min: 3, max: 12 }),
        copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 4 }),
        jitterSeconds: fc.integer({ min: 0, max: 20 }),
      }),
    ),
  ),
  runTaskFailure: fc.option(fc.record({ job: fc.nat({ max: JOBS.length - 1 }), occurrence: fc.nat({ max: 1 }) }), { freq: 3 }),
  lostRunTask: fc.option(fc.record({ job: fc.nat({ max: JOBS.length - 1 }), occurrence: fc.nat({ max: 1 }) }), { freq: 2 }),
  slotsDeletedAtMinutes: fc.option(fc.integer({ min: 2, max: 30 }), { freq: 2 }),
  redrive: fc.boolean(),
  staging: fc.boolean(),
  malformed: fc.array(fc.constantFrom<TaskLockMalformed>('bad-time', 'unknown-job', 'stopped-without-arn', 'not-an-object'), { minLength: 1, maxLength: 3 }),
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function schedulerInput(job: string, occurrence: number, execution: string, stage = STAGE) {
  return {
    job,
    scheduledTime: iso(occurrence),
    scheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/default/${ruleName(job, stage)}`,
    executionId: execution,
    attemptNumber: '1',
  };
}

function malformed(world: World, kind: TaskLockMalformed, n: number) {
  const { sim } = world;
  switch (kind) {
    case 'bad-time':
      return {
        via: 'direct' as const,
        event: { ...schedulerInput('nightly', sim.clock.now(), `bad-${n}`), scheduledTime: 'yesterday' },
        expect: 'scheduledTime: expected an ISO-8601 time',
      };
    case 'unknown-job':
      return {
        via: 'direct' as const,
        event: { ...schedulerInput('nightly', sim.clock.now(), `unknown-${n}`), job: 'weekly' },
        expect: 'Unknown job "weekly"',
      };
    case 'not-an-object':
      return { via: 'direct' as const, event: [`not-an-object-${n}`], expect: 'expected a JSON object, got an array' };
    case 'stopped-without-arn':
      return {
        via: 'bus' as const,
        event: {
          version: '0' as const,
          id: `malformed-stopped-${n}`,
          'detail-type': 'ECS Task State Change',
          source: 'aws.ecs',
          account: sim.account,
          time: iso(sim.clock.now()),
          region: sim.region,
          resources: [],
          detail: { clusterArn: sim.ecs.clusters.get(CLUSTER)!.arn, lastStatus: 'STOPPED', startedBy: 'ecs-caretaker-lock/0123456789abcdef', version: 3 },
        },
        expect: 'Invalid ECS Task State Change event: detail.taskArn',
      };
  }
}

interface Occurrence {
  job: string;
  at: number;
  key: string;
}

/** Which occurrence an invocation was about, from its payload. */
function occurrenceOf(inv: Pick<Invocation, 'event'>): string | undefined {
  const e = inv.event as Record<string, any>;
  const canonical = (time: unknown) => (Number.isNaN(Date.parse(String(time))) ? undefined : new Date(String(time)).toISOString());
  if (typeof e?.job === 'string' && typeof e?.scheduledTime === 'string') return canonical(e.scheduledTime) && `${e.job}@${canonical(e.scheduledTime)}`;
  if (e?.source === 'aws.events' && Array.isArray(e.resources)) {
    const job = JOBS.find((j) => String(e.resources[0]).endsWith(`/${ruleName(j.name)}`));
    return job && canonical(e.time) && `${job.name}@${canonical(e.time)}`;
  }
  return undefined;
}

const tagOf = (task: Task, key: string) => task.tags.find((t) => t.key === key)?.value;

const REDRIVE_AFTER_MS = 25 * 3600_000;
const PROD_DEPLOYMENT = `ecs-caretaker-${STAGE}`;

/** What an operator's `aws dynamodb delete-item` on every job slot does, mid-run. */
async function deleteJobSlots(world: World): Promise<void> {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: world.sim.dynamo.endpoint, region: world.sim.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const { Items = [] } = await doc.send(new ScanCommand({ TableName: TABLE }));
  for (const item of Items.filter((i) => String(i.id).startsWith('job#'))) await doc.send(new DeleteCommand({ TableName: TABLE, Key: { id: item.id } }));
}

export interface TaskLockRun {
  violations: string[];
  occurrences: number;
  started: number;
  skipped: number;
  neverDelivered: number;
  inDlq: number;
  /** Valid payloads (occurrences, STOPPED events) that failed three times: in the DLQ, not lost. */
  validInDlq: number;
  killed: boolean;
}

export async function runTaskLockScenario(world: World, s: TaskLockScenario, fn = 'task-lock'): Promise<TaskLockRun> {
  const { sim, runtime } = world;
  sim.ecs.addCluster(CLUSTER);
  sim.ecs.addContainerInstance(CLUSTER, { ec2InstanceId: 'i-0aaaaaaaaaaaaaaa1', cpu: 4096, memory: 8192 });
  sim.ecs.addContainerInstance(CLUSTER, { ec2InstanceId: 'i-0aaaaaaaaaaaaaaa2', cpu: 4096, memory: 8192 });
  for (const [i, job] of JOBS.entries()) sim.ecs.defineTaskDefinition(job.taskDefinition, { runSeconds: s.jobs[i]!.runSeconds });

  subscribeRules(world, fn, { stopped: taskStoppedPattern });
  if (s.staging) {
    await createTable(sim.dynamo.endpoint, STAGING.table);
    subscribeRules(world, STAGING.fn, { stopped: taskStoppedPattern });
  }
  const hourlyRuleArn = `arn:aws:events:${sim.region}:${sim.account}:rule/${ruleName('hourly')}`;
  subscribeRules(world, fn, { hourly: { source: ['aws.events'], 'detail-type': ['Scheduled Event'], resources: [hourlyRuleArn] } });
  applyFaults(world, s.faults);
  armKill(world, s.kill);

  const start = sim.clock.now();
  const occurrences: Occurrence[] = [];
  JOBS.forEach((job, j) => {
    const plan = s.jobs[j]!;
    plan.copies.forEach((copies, k) => {
      const at = Math.floor(start / 60_000) * 60_000 + (plan.firstAtMinutes + k * plan.intervalMinutes) * 60_000;
      occurrences.push({ job: job.name, at, key: `${job.name}@${new Date(at).toISOString()}` });
      if (s.runTaskFailure?.job === j && s.runTaskFailure.occurrence === k) sim.clock.at(at - 1, () => sim.ecs.failNextRunTask('RESOURCE:MEMORY'));
      // ECS starts the task on the first attempt; the SDK's five attempts all get a 500.
      if (s.lostRunTask?.job === j && s.lostRunTask.occurrence === k)
        sim.clock.at(at - 1, () => sim.faults.failNext('ecs', 'RunTask', 'ServerException', 5, { afterApply: true }));
      if (job.schedule.method === 'rule') {
        sim.clock.at(at, () => sim.bus.put(scheduledEvent(world.sim, ruleName(job.name), at, `rule-${job.name}-${k}`)));
        if (s.redrive)
          sim.clock.at(at + REDRIVE_AFTER_MS, () => runtime.invoke(fn, scheduledEvent(world.sim, ruleName(job.name), at, `rule-${job.name}-${k}`), 'redrive'));
        return;
      }
      for (let c = 0; c < copies; c++) {
        sim.clock.at(at + c * plan.jitterSeconds * 1000, () => runtime.invoke(fn, schedulerInput(job.name, at, `${job.name}-${k}`), 'scheduler'));
      }
      if (s.redrive) sim.clock.at(at + REDRIVE_AFTER_MS, () => runtime.invoke(fn, schedulerInput(job.name, at, `${job.name}-${k}`), 'redrive'));
      if (s.staging) {
        sim.clock.at(at + plan.jitterSeconds * 500, () =>
          runtime.invoke(STAGING.fn, schedulerInput(job.name, at, `staging-${job.name}-${k}`, STAGING.stage), 'scheduler'),
        );
      }
    });
  });
  for (const [n, kind] of s.malformed.entries()) sim.clock.at(start + 90_000 + n * 11_000, () => injectMalformed(world, { fn, ...malformed(world, kind, n) }));
  if (s.slotsDeletedAtMinutes !== null) sim.clock.at(start + s.slotsDeletedAtMinutes * 60_000, () => deleteJobSlots(world));

  const lastRun = Math.max(...occurrences.map((o) => o.at)) + Math.max(...s.jobs.map((j) => j.runSeconds)) * 1000 + 60_000;
  const lastStop = s.redrive ? Math.max(lastRun, Math.max(...occurrences.map((o) => o.at)) + REDRIVE_AFTER_MS + 60_000) : lastRun;
  await runUntil(world, () => sim.clock.now() > lastStop && sim.ecs.tasks((t) => t.lastStatus !== 'STOPPED').length === 0, {
    maxMs: (s.redrive ? 30 : 4) * 3600_000,
    // Timers run in order within a step, so a long step over the quiet day before the redrives only checks "done" less often.
    stepMs: s.redrive ? 300_000 : undefined,
  });

  // ---- invariants, on the simulator's ECS state
  const violations: string[] = [];
  const everyStack = sim.ecs.tasks((t) => t.startedBy?.startsWith('ecs-caretaker-lock/') ?? false);
  const stackOf = (task: Task) => tagOf(task, 'ecs-caretaker:deployment') ?? '?';
  const ours = everyStack.filter((t) => stackOf(t) === PROD_DEPLOYMENT);
  const byOccurrence = new Map<string, Task[]>();
  const byStackOccurrence = new Map<string, Task[]>();
  for (const task of everyStack) {
    const key = `${tagOf(task, 'ecs-caretaker:job')}@${tagOf(task, 'ecs-caretaker:occurrence')}`;
    byStackOccurrence.set(`${stackOf(task)}/${key}`, [...(byStackOccurrence.get(`${stackOf(task)}/${key}`) ?? []), task]);
    if (stackOf(task) === PROD_DEPLOYMENT) byOccurrence.set(key, [...(byOccurrence.get(key) ?? []), task]);
  }
  for (const [key, tasks] of byStackOccurrence) if (tasks.length > 1) violations.push(`occurrence ${key} started ${tasks.length} tasks`);

  // Under skip, one live task per job and stack at any instant; under stop-previous, once its StopTask has landed.
  for (const stack of new Set(everyStack.map(stackOf))) {
    for (const job of JOBS.filter((j) => j.overlap === 'skip')) {
      const tasks = everyStack.filter((t) => stackOf(t) === stack && tagOf(t, 'ecs-caretaker:job') === job.name).sort((a, b) => a.createdAt - b.createdAt);
      for (let i = 1; i < tasks.length; i++) {
        const previous = tasks[i - 1]!;
        const next = tasks[i]!;
        const freedAt =
          job.onOverrun === 'stop-previous'
            ? Math.min(previous.stoppingAt ?? Number.POSITIVE_INFINITY, previous.stoppedAt ?? Number.POSITIVE_INFINITY)
            : previous.stoppedAt;
        if ((freedAt ?? Number.POSITIVE_INFINITY) > next.createdAt) {
          violations.push(
            `${stack} job ${job.name} (overlap skip, onOverrun ${job.onOverrun}): ${tagOf(next, 'ecs-caretaker:occurrence')} started while ${tagOf(previous, 'ecs-caretaker:occurrence')} was ${previous.stoppedAt ? 'still running' : 'running'}`,
          );
        }
      }
    }
  }

  // Two stacks never collide: no reused-clientToken failure, and each stack's answer is a task of its own.
  for (const inv of runtime.invocations.filter((i) => i.fn === STAGING.fn || i.fn === fn)) {
    if (/clientToken was already used/.test(inv.error?.message ?? '')) violations.push(`${inv.fn}: ${inv.error!.message}`);
    const arn = (inv.result as { taskArn?: string } | undefined)?.taskArn;
    const task = arn ? sim.ecs.task(arn) : undefined;
    const expected = inv.fn === fn ? PROD_DEPLOYMENT : `ecs-caretaker-${STAGING.stage}`;
    if (task && stackOf(task) !== expected) violations.push(`${inv.fn} answered with ${arn}, a task of ${stackOf(task)}`);
  }

  // A redrive 25 h later is refused, whatever became of the occurrence.
  for (const inv of runtime.invocations.filter((i) => i.fn === fn && i.source === 'redrive' && i.status === 'succeeded')) {
    if ((inv.result as { outcome?: string })?.outcome !== 'too-late')
      violations.push(`redrive of ${occurrenceOf(inv)} 25 h later: ${JSON.stringify(inv.result)}`);
  }

  const invocations = runtime.invocations.filter((i) => i.fn === fn && i.source !== 'redrive');
  const dlqKeys = new Set(runtime.dlq.map((d) => occurrenceOf(d)).filter(Boolean));
  const run: TaskLockRun = {
    violations,
    occurrences: occurrences.length,
    started: 0,
    skipped: 0,
    neverDelivered: 0,
    inDlq: 0,
    validInDlq: 0,
    killed: runtime.killed !== undefined,
  };
  for (const o of occurrences) {
    const tasks = byOccurrence.get(o.key) ?? [];
    const mine = invocations.filter((i) => occurrenceOf(i) === o.key);
    if (tasks.length) {
      run.started++;
      continue;
    }
    if (mine.length === 0) {
      run.neverDelivered++;
      continue;
    }
    if (dlqKeys.has(o.key)) {
      run.inDlq++;
      continue;
    }
    const outcomes = mine.map((i) => i.result as { outcome?: string; state?: string; runningTaskArn?: string } | undefined);
    const skipped = outcomes.some((r) => r?.outcome === 'skipped' || (r?.outcome === 'duplicate' && r.state === 'skipped'));
    const job = JOBS.find((j) => j.name === o.job)!;
    if (!skipped || job.overlap !== 'skip') {
      violations.push(
        `occurrence ${o.key} reached the function ${mine.length} times (${mine.map((i) => `${i.status}:${(i.result as any)?.outcome ?? i.error?.message}`).join(', ')}) but started no task`,
      );
      continue;
    }
    run.skipped++;
    for (const skip of mine.filter((i) => (i.result as { outcome?: string })?.outcome === 'skipped')) {
      const holder = (skip.result as { runningTaskArn?: string }).runningTaskArn;
      const task = holder ? sim.ecs.task(holder) : undefined;
      if (holder && !task) violations.push(`occurrence ${o.key} skipped for ${holder}, which ECS never ran`);
      else if (task?.stoppedAt !== undefined && task.stoppedAt < skip.startedAt) {
        violations.push(
          `occurrence ${o.key} skipped at ${iso(skip.startedAt)} for ${tagOf(task, 'ecs-caretaker:occurrence')}, STOPPED since ${iso(task.stoppedAt)}`,
        );
      }
    }
    // Whoever decided the skip (maybe an attempt killed before it could say so) saw another run of the
    // job going: a task not STOPPED, or another occurrence starting (or dead while starting) then.
    const overlapped = mine.some((i) => {
      const until = i.endedAt ?? i.deadline;
      const running = ours.some(
        (t) => tagOf(t, 'ecs-caretaker:job') === o.job && t.createdAt <= until && (t.stoppedAt ?? Number.POSITIVE_INFINITY) >= i.startedAt,
      );
      const starting = invocations.some(
        (other) =>
          occurrenceOf(other) !== o.key && occurrenceOf(other)?.startsWith(`${o.job}@`) && other.startedAt <= until && i.startedAt <= other.deadline + 30_000,
      );
      return running || starting;
    });
    if (!overlapped) violations.push(`occurrence ${o.key} was skipped while no other run of ${o.job} was going`);
  }
  violations.push(...malformedViolations(world));
  if (violations.length) violations.push(`timeline:\n    ${timeline(world, start, (i) => i.source !== 'direct')}`);
  run.validInDlq = validInDlq(world);
  return run;
}
