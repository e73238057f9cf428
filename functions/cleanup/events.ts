import { cleanupRequestedPattern } from '../shared/cleanup-request.ts';
import type { EventPattern } from '../shared/event-pattern.ts';

/**
 * The EventBridge patterns the cleanup function subscribes to. The alarm and
 * report patterns depend on the deployment (alarm-name prefix, document name),
 * so they are built here, for infra/functions/cleanup.ts (the rules) and for
 * the tests that prove them against real payloads. Schedules are not patterns:
 * one rule per cluster is generated in infra.
 */

export const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';
export const INVOCATION_DETAIL_TYPE = 'EC2 Command Invocation Status-change Notification';

/**
 * Invocation statuses that are not final (GetCommandInvocation Status). The
 * status values in the events are not listed in one place by AWS, so the rule
 * lets everything else through and the collector asks GetCommandInvocation,
 * whose StatusDetails is the authority.
 */
export const NOT_FINAL_STATUSES = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];

/**
 * Only alarms whose name starts with the prefix: a CPU alarm of another team
 * in the same account must never clean a fleet. State changes to ALARM only;
 * the return to OK needs no cleanup.
 */
export const alarmPattern = (alarmNamePrefix: string) =>
  ({
    source: ['aws.cloudwatch'],
    'detail-type': [ALARM_DETAIL_TYPE],
    detail: { alarmName: [{ prefix: alarmNamePrefix }], state: { value: ['ALARM'] } },
  }) satisfies EventPattern;

/** Final status changes of invocations of our own document. */
export const commandInvocationPattern = (documentName: string) =>
  ({
    source: ['aws.ssm'],
    'detail-type': [INVOCATION_DETAIL_TYPE],
    detail: { 'document-name': [documentName], status: [{ 'anything-but': NOT_FINAL_STATUSES }] },
  }) satisfies EventPattern;

export { cleanupRequestedPattern };

export interface CleanupPatterns {
  alarm: EventPattern;
  invocation: EventPattern;
  request: EventPattern;
}

export function cleanupPatterns(opts: { alarmNamePrefix: string; documentName: string }): CleanupPatterns {
  return {
    alarm: alarmPattern(opts.alarmNamePrefix),
    invocation: commandInvocationPattern(opts.documentName),
    request: cleanupRequestedPattern,
  };
}
