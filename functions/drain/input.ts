import * as z from 'zod/mini';
import { parseOrFail } from '../shared/config.ts';
import { CONTAINER_INSTANCE_DETAIL_TYPE, LIFECYCLE_DETAIL_TYPE, SPOT_DETAIL_TYPE, TASK_DETAIL_TYPE } from './events.ts';

/**
 * What started an invocation of the drain function. Well-formed events that
 * are not ours (another hook, another ASG, another cluster) become `ignored`;
 * anything malformed throws InvalidDrainEventError, which the handler logs and
 * rethrows so that Lambda's retries end in the DLQ.
 */
export type DrainInput =
  | {
      kind: 'lifecycle';
      asg: string;
      hookName: string;
      instanceId: string;
      token: string;
      /** epoch ms of the event, when it has a real timestamp */
      time?: number;
      /** Warm pools: where the instance comes from and goes to (EC2 | AutoScalingGroup | WarmPool). */
      origin?: string;
      destination?: string;
    }
  | { kind: 'task-stopped'; clusterArn: string; containerInstanceArn: string; taskArn: string; version: number }
  | {
      kind: 'container-instance';
      clusterArn: string;
      containerInstanceArn: string;
      ec2InstanceId?: string;
      status: string;
      version: number;
      runningTasksCount?: number;
      pendingTasksCount?: number;
    }
  | { kind: 'spot'; instanceId: string; action?: string }
  | { kind: 'tick'; time?: number }
  | { kind: 'ignored'; reason: string };

export class InvalidDrainEventError extends Error {
  override name = 'InvalidDrainEventError';
}

export interface InputScope {
  clusters: readonly string[];
  asgs: readonly string[];
  hookName: string;
}

const nonEmpty = z.string().check(z.minLength(1));
const version = z.int().check(z.gte(0));

const lifecycleEvent = z.object({
  source: z.literal('aws.autoscaling'),
  time: z.optional(z.string()),
  detail: z.object({
    LifecycleActionToken: nonEmpty,
    AutoScalingGroupName: nonEmpty,
    LifecycleHookName: nonEmpty,
    EC2InstanceId: z.string().check(z.regex(/^i-[0-9a-f]+$/, 'expected an EC2 instance id "i-..."')),
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_TERMINATING'),
    Origin: z.optional(z.string()),
    Destination: z.optional(z.string()),
  }),
});

const taskEvent = z.object({
  detail: z.object({
    taskArn: nonEmpty,
    clusterArn: nonEmpty,
    lastStatus: nonEmpty,
    containerInstanceArn: z.optional(nonEmpty),
    version,
  }),
});

const containerInstanceEvent = z.object({
  detail: z.object({
    containerInstanceArn: nonEmpty,
    clusterArn: nonEmpty,
    ec2InstanceId: z.optional(z.string()),
    status: nonEmpty,
    version,
    runningTasksCount: z.optional(z.int()),
    pendingTasksCount: z.optional(z.int()),
  }),
});

const spotEvent = z.object({
  detail: z.object({
    'instance-id': z.string().check(z.regex(/^i-[0-9a-f]+$/, 'expected an EC2 instance id "i-..."')),
    'instance-action': z.optional(z.string()),
  }),
});

const check = <S extends z.ZodMiniType>(schema: S, payload: unknown, what: string): z.output<S> =>
  parseOrFail(schema, payload, (problems) => new InvalidDrainEventError(`Invalid ${what} event: ${problems}`));

/** `arn:...:cluster/<name>` → `<name>`. */
export const clusterNameOf = (clusterArn: string): string => clusterArn.slice(clusterArn.lastIndexOf('/') + 1);

/** The AWS documentation's examples carry placeholders such as "yyyy-mm-ddThh:mm:ssZ" in `time`: those are not an error, just not a time. */
const epochOf = (time: string | undefined): number | undefined => {
  const ms = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * How far an event's `time` may run ahead of this function's clock before it
 * is a bad clock rather than skew: AWS services and Lambda keep NTP time, so
 * a minute is generous.
 */
export const CLOCK_SKEW_MS = 60_000;

export type ActionStart = { startedAt: number; distrust?: { reason: 'future' | 'too-old'; eventTime: number } };

/**
 * When a lifecycle action began, for its drain timeout. The event's `time` is
 * used only when it is plausible: not ahead of our clock by more than the
 * skew, and not older than HeartbeatTimeout, since an action that nobody has
 * heartbeated yet expires after that long (EC2 Auto Scaling user guide,
 * "Amazon EC2 Auto Scaling lifecycle hooks": the instance waits HeartbeatTimeout
 * unless a heartbeat extends it). An older or future time (late delivery, a
 * replay, a bad clock, a documentation payload) is not trusted and the action
 * starts now, when drain first sees it: a drain timeout run from a wrong start
 * would complete CONTINUE at once with tasks still running.
 */
export function actionStart(eventTime: number | undefined, now: number, heartbeatTimeoutSeconds: number): ActionStart {
  if (eventTime === undefined) return { startedAt: now };
  if (eventTime > now + CLOCK_SKEW_MS) return { startedAt: now, distrust: { reason: 'future', eventTime } };
  if (eventTime < now - heartbeatTimeoutSeconds * 1000) return { startedAt: now, distrust: { reason: 'too-old', eventTime } };
  return { startedAt: Math.min(eventTime, now) };
}

export function parseDrainInput(payload: unknown, scope: InputScope): DrainInput {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidDrainEventError(
      `Invalid event: expected a JSON object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`,
    );
  }
  const p = payload as Record<string, unknown>;
  const detailType = p['detail-type'];

  if (detailType === LIFECYCLE_DETAIL_TYPE) {
    const { detail, time } = check(lifecycleEvent, payload, LIFECYCLE_DETAIL_TYPE);
    if (!scope.asgs.includes(detail.AutoScalingGroupName))
      return { kind: 'ignored', reason: `Auto Scaling group "${detail.AutoScalingGroupName}" is not configured` };
    if (detail.LifecycleHookName !== scope.hookName)
      return { kind: 'ignored', reason: `lifecycle hook "${detail.LifecycleHookName}" is not ours ("${scope.hookName}")` };
    return {
      kind: 'lifecycle',
      asg: detail.AutoScalingGroupName,
      hookName: detail.LifecycleHookName,
      instanceId: detail.EC2InstanceId,
      token: detail.LifecycleActionToken,
      time: epochOf(time),
      origin: detail.Origin,
      destination: detail.Destination,
    };
  }

  if (p.source === 'aws.ecs' && detailType === TASK_DETAIL_TYPE) {
    const { detail } = check(taskEvent, payload, TASK_DETAIL_TYPE);
    if (!scope.clusters.includes(clusterNameOf(detail.clusterArn))) return { kind: 'ignored', reason: `cluster ${detail.clusterArn} is not configured` };
    if (!detail.containerInstanceArn) return { kind: 'ignored', reason: 'task has no container instance (Fargate)' };
    if (detail.lastStatus !== 'STOPPED') return { kind: 'ignored', reason: `task is ${detail.lastStatus}, only STOPPED can finish a drain` };
    return {
      kind: 'task-stopped',
      clusterArn: detail.clusterArn,
      containerInstanceArn: detail.containerInstanceArn,
      taskArn: detail.taskArn,
      version: detail.version,
    };
  }

  if (p.source === 'aws.ecs' && detailType === CONTAINER_INSTANCE_DETAIL_TYPE) {
    const { detail } = check(containerInstanceEvent, payload, CONTAINER_INSTANCE_DETAIL_TYPE);
    if (!scope.clusters.includes(clusterNameOf(detail.clusterArn))) return { kind: 'ignored', reason: `cluster ${detail.clusterArn} is not configured` };
    return { kind: 'container-instance', ...detail };
  }

  if (p.source === 'aws.ec2' && detailType === SPOT_DETAIL_TYPE) {
    const { detail } = check(spotEvent, payload, SPOT_DETAIL_TYPE);
    return { kind: 'spot', instanceId: detail['instance-id'], action: detail['instance-action'] };
  }

  if (p.source === 'aws.events' && detailType === 'Scheduled Event') {
    return { kind: 'tick', time: epochOf(typeof p.time === 'string' ? p.time : undefined) };
  }

  throw new InvalidDrainEventError(
    `Invalid event: not one the drain function subscribes to (source ${JSON.stringify(p.source)}, detail-type ${JSON.stringify(detailType)}); expected "${LIFECYCLE_DETAIL_TYPE}", "${TASK_DETAIL_TYPE}", "${CONTAINER_INSTANCE_DETAIL_TYPE}", "${SPOT_DETAIL_TYPE}" or a Scheduled Event`,
  );
}
