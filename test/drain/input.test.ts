import { describe, expect, it } from 'vitest';
import { actionStart, CLOCK_SKEW_MS, InvalidDrainEventError, parseDrainInput, type DrainInput } from '../../functions/drain/input.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';

const scope = { clusters: ['default', 'DemoTrafficGen01-EcsCluster97242B84-u8PnqOAmk1tO'], asgs: ['my-asg'], hookName: 'my-lifecycle-hook' };
const lifecycle = () => loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');

const errorOf = (payload: unknown): string => {
  try {
    parseDrainInput(payload, scope);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDrainEventError);
    return (error as Error).message;
  }
  throw new Error('expected parseDrainInput to throw');
};

describe('parseDrainInput on the real payloads', () => {
  it('reads each subscribed kind and refuses every other payload', () => {
    const kinds: Record<string, string> = {};
    for (const [file, event] of loadAwsEvents()) {
      try {
        kinds[file] = parseDrainInput(event, scope).kind;
      } catch (error) {
        expect(error, file).toBeInstanceOf(InvalidDrainEventError);
        kinds[file] = 'error';
      }
    }
    expect(Object.entries(kinds).filter(([, kind]) => kind !== 'error')).toEqual([
      ['asg-terminate-lifecycle-action-eventbridge-docs.json', 'lifecycle'],
      ['ec2-spot-interruption-warning-docs.json', 'spot'],
      ['ecs-container-instance-state-change-active-docs.json', 'container-instance'],
      ['ecs-task-state-change-container-exited-task-running-docs-2018.json', 'ignored'],
      ['ecs-task-state-change-running-fargate-docs.json', 'ignored'],
      ['ecs-task-state-change-stopped-essential-exit-multicontainer.json', 'ignored'],
      ['ecs-task-state-change-stopped-scaling-ec2-exit137.json', 'task-stopped'],
      ['scheduled-event-rule-dotnet.json', 'tick'],
    ]);
  });

  it('takes the lifecycle action from the documented event, whose time is a placeholder', () => {
    expect(parseDrainInput(lifecycle(), scope)).toEqual<DrainInput>({
      kind: 'lifecycle',
      asg: 'my-asg',
      hookName: 'my-lifecycle-hook',
      instanceId: 'i-1234567890abcdef0',
      token: '87654321-4321-4321-4321-210987654321',
      time: undefined,
      origin: undefined,
      destination: undefined,
    });
    const timed = { ...lifecycle(), time: '2026-06-01T09:00:00Z', detail: { ...lifecycle().detail, Origin: 'AutoScalingGroup', Destination: 'WarmPool' } };
    expect(parseDrainInput(timed, scope)).toMatchObject({ time: Date.parse('2026-06-01T09:00:00Z'), origin: 'AutoScalingGroup', destination: 'WarmPool' });
  });

  it('ignores well-formed events that are not ours', () => {
    expect(parseDrainInput({ ...lifecycle(), detail: { ...lifecycle().detail, LifecycleHookName: 'theirs' } }, scope)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('"theirs"'),
    });
    expect(parseDrainInput({ ...lifecycle(), detail: { ...lifecycle().detail, AutoScalingGroupName: 'other' } }, scope)).toMatchObject({ kind: 'ignored' });
    const stopped = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    expect(parseDrainInput({ ...stopped, detail: { ...stopped.detail, clusterArn: 'arn:aws:ecs:us-east-2:1:cluster/nope' } }, scope)).toMatchObject({
      kind: 'ignored',
    });
  });
});

describe('parseDrainInput on malformed events', () => {
  it('names the missing or wrong field', () => {
    const { LifecycleActionToken: _, ...noToken } = lifecycle().detail;
    expect(errorOf({ ...lifecycle(), detail: noToken })).toMatch(/^Invalid EC2 Instance-terminate Lifecycle Action event: detail\.LifecycleActionToken: /);
    expect(errorOf({ ...lifecycle(), detail: { ...lifecycle().detail, EC2InstanceId: 'web-1' } })).toContain(
      'detail.EC2InstanceId: expected an EC2 instance id',
    );
    expect(errorOf({ ...lifecycle(), detail: { ...lifecycle().detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' } })).toContain(
      'detail.LifecycleTransition',
    );
    expect(errorOf({ ...lifecycle(), source: 'my.app' })).toContain('source');
    const stopped = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    expect(errorOf({ ...stopped, detail: { ...stopped.detail, version: 'four' } })).toContain('detail.version');
    expect(errorOf({ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: {} })).toContain('detail.instance-id');
  });

  it('refuses what is not an event of ours, saying what it got', () => {
    expect(errorOf(null)).toBe('Invalid event: expected a JSON object, got null');
    expect(errorOf([1])).toBe('Invalid event: expected a JSON object, got an array');
    expect(errorOf({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change' })).toContain('detail-type "CloudWatch Alarm State Change"');
  });
});

describe('actionStart: when the drain timeout starts', () => {
  const now = Date.parse('2026-06-01T09:00:00Z');

  it('trusts a time a little in the past, and one within the clock skew ahead (as now)', () => {
    expect(actionStart(now - 90_000, now, 300)).toEqual({ startedAt: now - 90_000 });
    expect(actionStart(now - 300_000, now, 300)).toEqual({ startedAt: now - 300_000 });
    expect(actionStart(now + CLOCK_SKEW_MS, now, 300)).toEqual({ startedAt: now });
    expect(actionStart(undefined, now, 300)).toEqual({ startedAt: now });
  });

  it('does not trust a time older than HeartbeatTimeout (nothing kept that action alive) or ahead of the clock', () => {
    const yearsAgo = Date.parse('2019-03-14T22:27:51Z');
    expect(actionStart(yearsAgo, now, 300)).toEqual({ startedAt: now, distrust: { reason: 'too-old', eventTime: yearsAgo } });
    expect(actionStart(now - 300_001, now, 300)).toEqual({ startedAt: now, distrust: { reason: 'too-old', eventTime: now - 300_001 } });
    expect(actionStart(now - 3 * 3600_000, now, 7200)).toMatchObject({ startedAt: now, distrust: { reason: 'too-old' } });
    expect(actionStart(now + CLOCK_SKEW_MS + 1, now, 300)).toEqual({ startedAt: now, distrust: { reason: 'future', eventTime: now + CLOCK_SKEW_MS + 1 } });
  });
});
