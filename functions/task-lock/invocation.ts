import * as z from 'zod/mini';
import { parseOrFail } from '../shared/config.ts';
import type { Job } from '../shared/config.ts';

/**
 * What started this invocation. Two schedule shapes reach task-lock:
 * - an EventBridge *rule* delivers the whole "Scheduled Event"; the job is
 *   found by the rule name in `resources[0]` and the occurrence is `time`;
 * - EventBridge *Scheduler* delivers the Input we configure in serverless.ts,
 *   with the context attributes `<aws.scheduler.scheduled-time>` etc.
 *   filled in (Scheduler user guide, "Adding context attributes").
 * The third shape is the ECS Task State Change (STOPPED) of a task we started.
 */
export type Invocation =
  | { kind: 'occurrence'; job: Job; occurrence: string; via: 'rule' | 'scheduler'; deliveryId: string; attempt?: number }
  | { kind: 'task-stopped'; taskArn: string; clusterArn: string; startedBy: string; stoppedReason?: string };

export class InvalidInvocationError extends Error {
  override name = 'InvalidInvocationError';
}

const isoTime = z
  .string()
  .check(
    z.refine(
      (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
      'expected an ISO-8601 time',
    ),
  );

const ruleEvent = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  id: z.string().check(z.minLength(1)),
  time: isoTime,
  resources: z.array(z.string().check(z.regex(/^arn:aws[a-z-]*:events:[^:]*:\d*:rule\/.+$/, 'expected an EventBridge rule ARN'))).check(z.minLength(1)),
});

const schedulerInput = z.object({
  job: z.string().check(z.minLength(1)),
  scheduledTime: isoTime,
  scheduleArn: z.string().check(z.regex(/^arn:aws[a-z-]*:scheduler:/, 'expected an EventBridge Scheduler schedule ARN')),
  executionId: z.string().check(z.minLength(1)),
  attemptNumber: z.optional(z.union([z.string().check(z.regex(/^\d+$/)), z.int()])),
});

const taskStoppedEvent = z.object({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.object({
    taskArn: z.string().check(z.minLength(1)),
    clusterArn: z.string().check(z.minLength(1)),
    lastStatus: z.literal('STOPPED'),
    startedBy: z.string().check(z.minLength(1)),
    stoppedReason: z.optional(z.string()),
  }),
});

const check = <S extends z.ZodMiniType>(schema: S, payload: unknown, what: string): z.output<S> =>
  parseOrFail(schema, payload, (problems) => new InvalidInvocationError(`Invalid ${what}: ${problems}`));

/** The scheduled time as one canonical string, so that "…:00Z" and "…:00.000Z" are the same occurrence. */
export const canonicalTime = (time: string): string => new Date(time).toISOString();

export const ruleNameOf = (ruleArn: string): string =>
  ruleArn
    .slice(ruleArn.indexOf(':rule/') + ':rule/'.length)
    .split('/')
    .pop()!;

/**
 * Recognises the payload and resolves its job. `scheduleNames` maps each job to
 * the rule or schedule name serverless.ts gave it.
 */
export function parseInvocation(payload: unknown, jobs: readonly Job[], scheduleNames: Readonly<Record<string, string>>): Invocation {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidInvocationError(
      `Invalid invocation: expected a JSON object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`,
    );
  }
  const p = payload as Record<string, unknown>;

  if (p.source === 'aws.ecs') {
    const event = check(taskStoppedEvent, payload, 'ECS Task State Change event');
    return { kind: 'task-stopped', ...event.detail };
  }

  if (p.source === 'aws.scheduler' || (p['detail-type'] === 'Scheduled Event' && isSchedulerArn(firstResource(p)))) {
    return fromSchedulerNotification(p, jobs, scheduleNames);
  }

  if (p.source === 'aws.events' || p['detail-type'] === 'Scheduled Event') {
    const event = check(ruleEvent, payload, 'EventBridge Scheduled Event');
    const ruleName = ruleNameOf(event.resources[0]!);
    const job = jobs.find((j) => scheduleNames[j.name] === ruleName);
    if (!job) throw new InvalidInvocationError(`Unknown job: no configured job is scheduled by rule "${ruleName}" (resources[0])`);
    if (job.schedule.method !== 'rule') {
      throw new InvalidInvocationError(
        `Config mismatch: job "${job.name}" is configured with schedule.method "${job.schedule.method}" but was invoked by EventBridge rule "${ruleName}"`,
      );
    }
    return { kind: 'occurrence', job, occurrence: canonicalTime(event.time), via: 'rule', deliveryId: event.id };
  }

  if ('scheduledTime' in p || 'scheduleArn' in p || 'job' in p) {
    const input = check(schedulerInput, payload, 'EventBridge Scheduler input');
    const job = jobs.find((j) => j.name === input.job);
    if (!job) throw new InvalidInvocationError(`Unknown job "${input.job}" (job): configured jobs are ${jobs.map((j) => j.name).join(', ') || 'none'}`);
    const scheduleName = input.scheduleArn.split('/').pop();
    if (job.schedule.method !== 'scheduler' || scheduleName !== scheduleNames[job.name]) {
      throw new InvalidInvocationError(
        `Config mismatch: job "${job.name}" expects ${job.schedule.method === 'scheduler' ? `schedule "${scheduleNames[job.name]}"` : `EventBridge rule "${scheduleNames[job.name]}"`}, but was invoked by schedule "${scheduleName}" (scheduleArn)`,
      );
    }
    return {
      kind: 'occurrence',
      job,
      occurrence: canonicalTime(input.scheduledTime),
      via: 'scheduler',
      deliveryId: input.executionId,
      attempt: input.attemptNumber === undefined ? undefined : Number(input.attemptNumber),
    };
  }

  if (Object.keys(p).length === 0) throw new InvalidInvocationError(`Invalid invocation: the payload is empty. ${INPUT_MISSING}`);
  throw new InvalidInvocationError(
    `Invalid invocation: neither an EventBridge Scheduled Event (source "aws.events"), an EventBridge Scheduler input (job, scheduledTime, scheduleArn, executionId) nor an ECS Task State Change; keys: ${Object.keys(p).join(', ')}`,
  );
}

// A schedule without Input gets "a default notification" (Scheduler API reference, Target: Input),
// whose shape the docs do not give: an empty object, or an event naming the schedule.
const INPUT_MISSING =
  "If EventBridge Scheduler sent it, the schedule's Input is missing (cleared by hand, or the schedule was not created by this stack): " +
  'redeploy the stack (npx osls deploy), or set the Input to {"job":"<job name>","scheduledTime":"<aws.scheduler.scheduled-time>",' +
  '"scheduleArn":"<aws.scheduler.schedule-arn>","executionId":"<aws.scheduler.execution-id>","attemptNumber":"<aws.scheduler.attempt-number>"}';

const firstResource = (p: Record<string, unknown>): unknown => (Array.isArray(p.resources) ? p.resources[0] : undefined);
const isSchedulerArn = (value: unknown): value is string => typeof value === 'string' && /^arn:aws[a-z-]*:scheduler:[^:]*:\d*:schedule\/.+/.test(value);

/**
 * A Scheduler notification without our Input. It can still run its job when it
 * names the schedule (resources[0]) and its time; otherwise it is refused with
 * the fix for the schedule.
 */
function fromSchedulerNotification(p: Record<string, unknown>, jobs: readonly Job[], scheduleNames: Readonly<Record<string, string>>): Invocation {
  const scheduleArn = firstResource(p);
  const time = typeof p.time === 'string' ? p.time : undefined;
  const id = typeof p.id === 'string' && p.id ? p.id : undefined;
  if (!isSchedulerArn(scheduleArn) || !time || !isoTime.safeParse(time).success || !id) {
    throw new InvalidInvocationError(
      `Invalid EventBridge Scheduler notification: resources[0] (the schedule ARN), time and id are needed to find its job and occurrence. ${INPUT_MISSING}`,
    );
  }
  const scheduleName = scheduleArn.split('/').pop();
  const job = jobs.find((j) => j.schedule.method === 'scheduler' && scheduleNames[j.name] === scheduleName);
  if (!job) throw new InvalidInvocationError(`Unknown job: no configured job is scheduled by schedule "${scheduleName}" (resources[0]). ${INPUT_MISSING}`);
  return { kind: 'occurrence', job, occurrence: canonicalTime(time), via: 'scheduler', deliveryId: id };
}
