/**
 * The cleanup function's EventBridge patterns against every real payload in
 * test/fixtures/aws-events, each with the exact set of files it must match.
 */
import { describe, expect, it } from 'vitest';
import { alarmPattern, cleanupPatterns, commandInvocationPattern } from '../../functions/cleanup/events.ts';
import { cleanupRequestedPattern } from '../../functions/shared/cleanup-request.ts';
import { assertValidPattern, matchesPattern, type EventPattern } from '../../functions/shared/event-pattern.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';
import { ALARM_PREFIX, DOCUMENT } from './world.ts';

const fixtures = loadAwsEvents();
const matching = (pattern: EventPattern) => [...fixtures].filter(([, event]) => matchesPattern(pattern, event)).map(([file]) => file);

/** The Run Command invocation event as the EventBridge user guide shows it ("Amazon EC2 Systems Manager events"). */
const invocationEvent = (documentName: string, status: string) => ({
  version: '0',
  id: '4780e1b8-f56b-4de5-95f2-95db273d1602',
  'detail-type': 'EC2 Command Invocation Status-change Notification',
  source: 'aws.ssm',
  account: '123456789012',
  time: '2016-07-10T21:51:32Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: {
    'command-id': 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b',
    'document-name': documentName,
    'instance-id': 'i-9bb89e2b',
    'requested-date-time': '2016-07-10T21:51:30.049Z',
    status,
  },
});

describe('cleanup event patterns', () => {
  const deployed = cleanupPatterns({ alarmNamePrefix: ALARM_PREFIX, documentName: DOCUMENT });

  it('are valid EventBridge syntax', () => {
    for (const pattern of Object.values(deployed)) expect(() => assertValidPattern(pattern)).not.toThrow();
  });

  it('as deployed, match none of the real payloads: no real alarm is named for cleanup, no real event is about our document', () => {
    expect(matching(deployed.alarm)).toEqual([]);
    expect(matching(deployed.invocation)).toEqual([]);
    expect(matching(deployed.request)).toEqual([]);
    expect(deployed.request).toBe(cleanupRequestedPattern);
  });

  it('select real alarm state changes to ALARM by name prefix, and never the Lambda alarm-action payload', () => {
    expect(matching(alarmPattern('ServerCpu'))).toEqual(['cloudwatch-alarm-state-change-single-metric-docs.json']);
    expect(matching(alarmPattern('TotalNetwork'))).toEqual(['cloudwatch-alarm-state-change-metric-math-docs.json']);
    expect(matching(alarmPattern('EC2 CPU'))).toEqual(['cloudwatch-alarm-state-change-anomaly-detection-docs.json']);
    expect(matching(alarmPattern('S'))).toEqual(['cloudwatch-alarm-state-change-composite-docs.json', 'cloudwatch-alarm-state-change-single-metric-docs.json']);
    // The direct alarm action reaches the function without EventBridge, and carries no detail-type.
    expect(matching(alarmPattern('Test'))).toEqual([]);
  });

  it('ignore a return to OK', () => {
    const event = loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json');
    event.detail.alarmName = `${ALARM_PREFIX}-disk`;
    expect(matchesPattern(deployed.alarm, event)).toBe(true);
    event.detail.state.value = 'OK';
    expect(matchesPattern(deployed.alarm, event)).toBe(false);
  });

  it('take final invocation statuses of our document only', () => {
    const pattern = commandInvocationPattern(DOCUMENT);
    for (const status of ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'DeliveryTimedOut']) {
      expect(matchesPattern(pattern, invocationEvent(DOCUMENT, status)), status).toBe(true);
    }
    for (const status of ['Pending', 'InProgress', 'Delayed', 'Cancelling']) {
      expect(matchesPattern(pattern, invocationEvent(DOCUMENT, status)), status).toBe(false);
    }
    expect(matchesPattern(pattern, invocationEvent('AWS-RunPowerShellScript', 'Success'))).toBe(false);
  });
});
