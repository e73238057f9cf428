/**
 * The "Cleanup Requested" custom event: how a function that notices a full
 * Docker disk (stopped-watch, on a thin-pool or "no space left" image pull)
 * asks the cleanup function to clean one container instance. The producer puts
 * it on the default event bus; the cleanup function's rule matches
 * `cleanupRequestedPattern`. Both sides import this file so they cannot drift.
 */
import type { EventPattern } from './event-pattern.ts';

/** A custom source must not start with "aws." (EventBridge PutEventsRequestEntry.Source). */
export const CLEANUP_REQUEST_SOURCE = 'ecs-caretaker';
export const CLEANUP_REQUEST_DETAIL_TYPE = 'Cleanup Requested';

export type CleanupRequester = 'stopped-watch';

/** `detail` of a Cleanup Requested event. */
export interface CleanupRequest {
  /** ECS cluster name (not ARN). */
  cluster: string;
  /** Absent when ECS could not say (e.g. the instance was deregistered already); resolve it from containerInstanceArn then. */
  ec2InstanceId?: string;
  containerInstanceArn: string;
  /** Human-readable cause, e.g. the stop reason that revealed the full disk. */
  reason: string;
  requestedBy: CleanupRequester;
}

export const cleanupRequestedPattern = {
  source: [CLEANUP_REQUEST_SOURCE],
  'detail-type': [CLEANUP_REQUEST_DETAIL_TYPE],
} satisfies EventPattern;

/** The reason is free text from AWS; bounded so one event stays far below PutEvents' 256 KB entry limit. */
export const CLEANUP_REASON_MAX = 1000;

const CONTAINER_INSTANCE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[^:]*:container-instance\/.+$/;
const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * Checks the detail of a received Cleanup Requested event; returns the problems
 * found (empty when valid), so the consumer can log every bad field at once.
 */
export function cleanupRequestProblems(detail: unknown): string[] {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return ['detail: expected an object'];
  const d = detail as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof d.cluster !== 'string' || d.cluster.length === 0) problems.push('detail.cluster: expected a cluster name');
  if (typeof d.containerInstanceArn !== 'string' || !CONTAINER_INSTANCE_ARN.test(d.containerInstanceArn)) {
    problems.push('detail.containerInstanceArn: expected a container instance ARN');
  }
  if (d.ec2InstanceId !== undefined && (typeof d.ec2InstanceId !== 'string' || !EC2_INSTANCE_ID.test(d.ec2InstanceId))) {
    problems.push('detail.ec2InstanceId: expected an EC2 instance id "i-..." when present');
  }
  if (typeof d.reason !== 'string') problems.push('detail.reason: expected a string');
  if (d.requestedBy !== 'stopped-watch') problems.push('detail.requestedBy: expected "stopped-watch"');
  return problems;
}

export function isCleanupRequest(detail: unknown): detail is CleanupRequest {
  return cleanupRequestProblems(detail).length === 0;
}
