import * as z from 'zod/mini';
import { parseOrFail } from '../shared/config.ts';
import { DEPLOYMENT_FINISHED } from './events.ts';

/**
 * What starts an audit: the "Scheduled Event" of its schedule rule (every
 * configured cluster), or an ECS Deployment State Change that says a
 * deployment completed or failed (that one service).
 */
export type AuditInvocation =
  | { kind: 'schedule'; eventId: string; time: string }
  | {
      kind: 'deployment';
      eventId: string;
      time: string;
      cluster: string;
      service: string;
      serviceArn: string;
      eventName: (typeof DEPLOYMENT_FINISHED)[number];
      deploymentId: string;
    };

export class InvalidInvocationError extends Error {
  override name = 'InvalidInvocationError';
}

const isoTime = z.string().check(z.refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 time'));

const scheduledEvent = z.object({
  id: z.string().check(z.minLength(1)),
  time: isoTime,
  resources: z.array(z.string().check(z.regex(/^arn:aws[a-z-]*:events:[^:]*:\d*:rule\/.+$/, 'expected an EventBridge rule ARN'))).check(z.minLength(1)),
});

// The long ARN format. A service created before its account opted in to it keeps the old one (service/<name>),
// which names no cluster; the rule's pattern does not select those either (ECS developer guide, "Amazon Resource Names (ARNs) and IDs").
const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;

const deploymentEvent = z.object({
  id: z.string().check(z.minLength(1)),
  time: isoTime,
  resources: z.array(z.string()).check(
    z.minLength(1, 'expected the service ARN'),
    z.refine(
      (r) => r.length === 0 || SERVICE_ARN.test(r[0]!),
      'expected [0] to be a service ARN with its cluster, arn:aws:ecs:<region>:<account>:service/<cluster>/<service>',
    ),
  ),
  detail: z.object({
    eventName: z.enum(DEPLOYMENT_FINISHED, {
      error: (issue) => `expected ${DEPLOYMENT_FINISHED.join(' or ')}, got ${issue.input === undefined ? 'nothing' : JSON.stringify(issue.input)}`,
    }),
    deploymentId: z.string().check(z.minLength(1)),
  }),
});

const check = <S extends z.ZodMiniType>(schema: S, payload: unknown, what: string): z.output<S> =>
  parseOrFail(schema, payload, (problems) => new InvalidInvocationError(`Invalid ${what}: ${problems}`));

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

export function parseInvocation(payload: unknown): AuditInvocation {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidInvocationError(`Invalid invocation: expected an EventBridge event (a JSON object), got ${describe(payload)}`);
  }
  const p = payload as Record<string, unknown>;
  if (p.source === 'aws.events' && p['detail-type'] === 'Scheduled Event') {
    const event = check(scheduledEvent, payload, 'EventBridge Scheduled Event');
    return { kind: 'schedule', eventId: event.id, time: event.time };
  }
  if (p.source === 'aws.ecs' && p['detail-type'] === 'ECS Deployment State Change') {
    const event = check(deploymentEvent, payload, 'ECS Deployment State Change event');
    const serviceArn = event.resources[0]!;
    const [, cluster, service] = SERVICE_ARN.exec(serviceArn)!;
    return {
      kind: 'deployment',
      eventId: event.id,
      time: event.time,
      cluster: cluster!,
      service: service!,
      serviceArn,
      eventName: event.detail.eventName,
      deploymentId: event.detail.deploymentId,
    };
  }
  throw new InvalidInvocationError(
    `Invalid invocation: expected an EventBridge Scheduled Event (source "aws.events") or an ECS Deployment State Change (source "aws.ecs"), got source ${JSON.stringify(p.source ?? null)}, detail-type ${JSON.stringify(p['detail-type'] ?? null)}`,
  );
}
