import * as z from 'zod/mini';
import { CLEANUP_REQUEST_DETAIL_TYPE, CLEANUP_REQUEST_SOURCE, cleanupRequestProblems, type CleanupRequest } from '../shared/cleanup-request.ts';
import { parseOrFail } from '../shared/config.ts';
import { readAlarm } from './alarm.ts';
import { InvalidCleanupInputError } from './errors.ts';
import { ALARM_DETAIL_TYPE, INVOCATION_DETAIL_TYPE } from './events.ts';

/**
 * What started this invocation, recognised from the payload:
 * - the per-cluster schedule, whose rule input is `{cluster, trigger: "schedule"}`;
 * - a direct invoke `{cluster, instanceIds?, dryRun?}`;
 * - a CloudWatch alarm, as an EventBridge "CloudWatch Alarm State Change" or
 *   as a Lambda alarm action (`source: aws.cloudwatch`, `alarmData`, no detail-type);
 * - an ecs-caretaker "Cleanup Requested" event (functions/shared/cleanup-request.ts);
 * - the "EC2 Command Invocation Status-change Notification" of our document,
 *   which asks for the report to be collected.
 */

/** Where to look for instances. */
export type Scope =
  | { kind: 'cluster'; cluster: string }
  /** EC2 instance ids; `clusters` narrows the search to those configured clusters, else every configured cluster is searched. */
  | { kind: 'instances'; instanceIds: string[]; clusters?: string[] }
  | { kind: 'container-instance'; cluster: string; containerInstanceArn: string; ec2InstanceId?: string };

export type TriggerKind = 'schedule' | 'manual' | 'alarm' | 'request';

export interface Trigger {
  kind: TriggerKind;
  /** For logs: which schedule, alarm or requester. */
  detail: string;
}

export interface RunInput {
  kind: 'run';
  trigger: Trigger;
  scopes: Scope[];
  dryRun: boolean;
}

export interface ReportInput {
  kind: 'report';
  commandId: string;
  instanceId: string;
  status: string;
  eventId?: string;
}

export type CleanupInput = RunInput | ReportInput | { kind: 'ignore'; reason: string };

export interface InputSettings {
  clusters: readonly string[];
  dryRun: boolean;
  alarmNamePrefix: string;
  documentName: string;
}

const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
// Direct invokes are for an operator or a script; a fleet-wide run is `{cluster}` without instanceIds.
const DIRECT_INSTANCE_IDS_MAX = 1000;

const directInvoke = z.strictObject({
  cluster: z.string().check(z.minLength(1)),
  instanceIds: z.optional(
    z.array(z.string().check(z.regex(EC2_INSTANCE_ID, 'expected an EC2 instance id "i-..."'))).check(z.minLength(1), z.maxLength(DIRECT_INSTANCE_IDS_MAX)),
  ),
  dryRun: z.optional(z.boolean()),
  /** Set by the schedule rule's input, so that logs and the command's Comment can tell a schedule from an operator. */
  trigger: z.optional(z.literal('schedule')),
});

const invocationEvent = z.object({
  id: z.optional(z.string()),
  detail: z.object({
    'command-id': z.string().check(z.minLength(1)),
    'instance-id': z.string().check(z.minLength(1)),
    'document-name': z.string().check(z.minLength(1)),
    status: z.string().check(z.minLength(1)),
  }),
});

const check = <S extends z.ZodMiniType>(schema: S, payload: unknown, what: string): z.output<S> =>
  parseOrFail(schema, payload, (problems) => new InvalidCleanupInputError(`Invalid ${what}: ${problems}`));

function requireConfigured(cluster: string, field: string, settings: InputSettings, what: string): string {
  if (!settings.clusters.includes(cluster)) {
    throw new InvalidCleanupInputError(`Invalid ${what}: ${field}: "${cluster}" is not one of the configured clusters (${settings.clusters.join(', ')})`);
  }
  return cluster;
}

function alarmInput(payload: Record<string, unknown>, root: 'detail' | 'alarmData', alarmArn: string | undefined, settings: InputSettings): CleanupInput {
  const alarm = readAlarm(payload, root, alarmArn);
  if (!alarm.alarmName.startsWith(settings.alarmNamePrefix)) {
    throw new InvalidCleanupInputError(
      `Invalid CloudWatch alarm: ${root}.alarmName: "${alarm.alarmName}" does not start with "${settings.alarmNamePrefix}"; only alarms named so trigger cleanup`,
    );
  }
  if (alarm.state !== 'ALARM') return { kind: 'ignore', reason: `alarm "${alarm.alarmName}" is ${alarm.state}, not ALARM` };
  const what = 'CloudWatch alarm';
  const clusters = alarm.clusters.map((c) => requireConfigured(c, `${root}.configuration.metrics[].metricStat.metric.dimensions.ClusterName`, settings, what));
  const trigger: Trigger = { kind: 'alarm', detail: alarm.alarmArn ?? alarm.alarmName };
  const scopes: Scope[] = alarm.instanceIds.length
    ? [{ kind: 'instances', instanceIds: alarm.instanceIds, clusters: clusters.length ? clusters : undefined }]
    : clusters.map((cluster) => ({ kind: 'cluster', cluster }));
  return { kind: 'run', trigger, scopes, dryRun: settings.dryRun };
}

function requestInput(payload: Record<string, unknown>, settings: InputSettings): CleanupInput {
  const what = 'Cleanup Requested event';
  if (payload['detail-type'] !== CLEANUP_REQUEST_DETAIL_TYPE) {
    throw new InvalidCleanupInputError(
      `Invalid ${what}: detail-type: expected "${CLEANUP_REQUEST_DETAIL_TYPE}", got ${JSON.stringify(payload['detail-type'])}`,
    );
  }
  const problems = cleanupRequestProblems(payload.detail);
  if (problems.length) throw new InvalidCleanupInputError(`Invalid ${what}: ${problems.join('; ')}`);
  const request = payload.detail as CleanupRequest;
  const cluster = requireConfigured(request.cluster, 'detail.cluster', settings, what);
  return {
    kind: 'run',
    trigger: { kind: 'request', detail: `${request.requestedBy}: ${request.reason}`.slice(0, 300) },
    scopes: [{ kind: 'container-instance', cluster, containerInstanceArn: request.containerInstanceArn, ec2InstanceId: request.ec2InstanceId }],
    dryRun: settings.dryRun,
  };
}

export function parseCleanupInput(payload: unknown, settings: InputSettings): CleanupInput {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidCleanupInputError(
      `Invalid invocation: expected a JSON object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`,
    );
  }
  const p = payload as Record<string, unknown>;

  if (p.source === 'aws.cloudwatch') {
    if (p['detail-type'] === ALARM_DETAIL_TYPE)
      return alarmInput(p, 'detail', Array.isArray(p.resources) ? (p.resources[0] as string | undefined) : undefined, settings);
    if ('alarmData' in p) return alarmInput(p, 'alarmData', typeof p.alarmArn === 'string' ? p.alarmArn : undefined, settings);
    throw new InvalidCleanupInputError(
      `Invalid CloudWatch event: detail-type: expected "${ALARM_DETAIL_TYPE}" (EventBridge) or an alarmData object (Lambda alarm action), got ${JSON.stringify(p['detail-type'])}`,
    );
  }

  if (p.source === 'aws.ssm') {
    if (p['detail-type'] !== INVOCATION_DETAIL_TYPE)
      throw new InvalidCleanupInputError(
        `Invalid Systems Manager event: detail-type: expected "${INVOCATION_DETAIL_TYPE}", got ${JSON.stringify(p['detail-type'])}`,
      );
    const event = check(invocationEvent, p, INVOCATION_DETAIL_TYPE);
    const d = event.detail;
    if (d['document-name'] !== settings.documentName) {
      throw new InvalidCleanupInputError(
        `Invalid ${INVOCATION_DETAIL_TYPE}: detail.document-name: "${d['document-name']}" is not the cleanup document "${settings.documentName}"`,
      );
    }
    return { kind: 'report', commandId: d['command-id'], instanceId: d['instance-id'], status: d.status, eventId: event.id };
  }

  if (p.source === CLEANUP_REQUEST_SOURCE) return requestInput(p, settings);

  if ('source' in p || 'detail-type' in p) {
    throw new InvalidCleanupInputError(
      `Invalid event: source: ${JSON.stringify(p.source)} with detail-type ${JSON.stringify(p['detail-type'])} is not an event the cleanup function subscribes to`,
    );
  }

  if ('cluster' in p) {
    const what = p.trigger === 'schedule' ? 'schedule input' : 'direct invocation';
    const input = check(directInvoke, p, what);
    const cluster = requireConfigured(input.cluster, 'cluster', settings, what);
    const scope: Scope = input.instanceIds
      ? { kind: 'instances', instanceIds: [...new Set(input.instanceIds)], clusters: [cluster] }
      : { kind: 'cluster', cluster };
    return {
      kind: 'run',
      trigger: input.trigger === 'schedule' ? { kind: 'schedule', detail: `schedule of ${cluster}` } : { kind: 'manual', detail: 'direct invocation' },
      scopes: [scope],
      dryRun: input.dryRun ?? settings.dryRun,
    };
  }

  throw new InvalidCleanupInputError(
    `Invalid invocation: expected {cluster, instanceIds?, dryRun?}, a CloudWatch alarm, a "${CLEANUP_REQUEST_DETAIL_TYPE}" event or an "${INVOCATION_DETAIL_TYPE}"; keys: ${Object.keys(p).join(', ') || 'none'}`,
  );
}
