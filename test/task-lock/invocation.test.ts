import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config.ts';
import { InvalidInvocationError, parseInvocation } from '../../functions/task-lock/invocation.ts';
import { loadAwsEvents } from '../support/fixtures.ts';

const config = parseConfig({
  clusters: [{ name: 'prod' }],
  jobs: [
    {
      name: 'legacy',
      cluster: 'prod',
      taskDefinition: 'legacy',
      schedule: { expression: 'rate(1 hour)', method: 'rule', name: 'my-schedule' },
      maxRunSeconds: 600,
    },
    {
      name: 'nightly',
      cluster: 'prod',
      taskDefinition: 'report',
      schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Paris' },
      maxRunSeconds: 3600,
    },
  ],
});
const names = { legacy: 'my-schedule', nightly: 'ecs-caretaker-prod-nightly' };
const parse = (payload: unknown) => parseInvocation(payload, config.jobs, names);

const schedulerInput = {
  job: 'nightly',
  scheduledTime: '2026-11-23T01:00:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/ecs-caretaker-prod-nightly',
  executionId: 'd32c5kddcf5bb8c3',
  attemptNumber: '1',
};

describe('task-lock invocation payloads', () => {
  it('accepts every real scheduled-event payload in test/fixtures/aws-events', () => {
    const scheduled = [...loadAwsEvents()].filter(([, e]) => (e as { 'detail-type'?: string })['detail-type'] === 'Scheduled Event');
    expect(scheduled.length).toBeGreaterThan(0);
    for (const [file, event] of scheduled) {
      const inv = parse(event);
      expect(inv, file).toMatchObject({
        kind: 'occurrence',
        via: 'rule',
        occurrence: '1970-01-01T00:00:00.000Z',
        deliveryId: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
      });
      expect(inv.kind === 'occurrence' && inv.job.name).toBe('legacy');
    }
  });

  it('accepts the EventBridge Scheduler input with its context attributes filled in', () => {
    expect(parse(schedulerInput)).toMatchObject({
      kind: 'occurrence',
      via: 'scheduler',
      occurrence: '2026-11-23T01:00:00.000Z',
      deliveryId: 'd32c5kddcf5bb8c3',
      attempt: 1,
    });
  });

  it('gives one occurrence whatever the time notation', () => {
    const a = parse(schedulerInput);
    const b = parse({ ...schedulerInput, scheduledTime: '2026-11-23T02:00:00.000+01:00', executionId: 'other', attemptNumber: 2 });
    expect(a.kind === 'occurrence' && b.kind === 'occurrence' && a.occurrence === b.occurrence).toBe(true);
  });

  it('recognises the STOPPED event of a task it started', () => {
    const inv = parse({
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      detail: {
        taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/abc',
        clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/prod',
        lastStatus: 'STOPPED',
        startedBy: 'ecs-caretaker-lock/0123',
        stoppedReason: 'Essential container in task exited',
      },
    });
    expect(inv).toMatchObject({ kind: 'task-stopped', taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/abc' });
  });

  it.each([
    ['null', null, 'expected a JSON object, got null'],
    ['an array', [schedulerInput], 'expected a JSON object, got an array'],
    ['a string', 'run nightly', 'expected a JSON object, got string'],
    ['an unrelated object', { hello: 'world' }, 'neither an EventBridge Scheduled Event'],
    ['unknown job', { ...schedulerInput, job: 'weekly' }, 'Unknown job "weekly" (job)'],
    [
      'unknown rule',
      { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'x', time: '2026-11-23T01:00:00Z', resources: ['arn:aws:events:eu-west-1:1:rule/other'] },
      'no configured job is scheduled by rule "other"',
    ],
    [
      'scheduler job invoked by a rule',
      {
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        id: 'x',
        time: '2026-11-23T01:00:00Z',
        resources: ['arn:aws:events:eu-west-1:1:rule/ecs-caretaker-prod-nightly'],
      },
      'Config mismatch: job "nightly" is configured with schedule.method "scheduler"',
    ],
    [
      'rule job invoked by the scheduler',
      { ...schedulerInput, job: 'legacy', scheduleArn: 'arn:aws:scheduler:eu-west-1:1:schedule/default/my-schedule' },
      'Config mismatch: job "legacy" expects EventBridge rule "my-schedule"',
    ],
    [
      'another schedule',
      { ...schedulerInput, scheduleArn: 'arn:aws:scheduler:eu-west-1:1:schedule/default/copy' },
      'Config mismatch: job "nightly" expects schedule "ecs-caretaker-prod-nightly"',
    ],
    ['bad time', { ...schedulerInput, scheduledTime: '<aws.scheduler.scheduled-time>' }, 'scheduledTime: expected an ISO-8601 time'],
    [
      'missing time',
      { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'x', resources: ['arn:aws:events:eu-west-1:1:rule/my-schedule'] },
      'Invalid EventBridge Scheduled Event: time:',
    ],
    ['no resources', { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'x', time: '2026-11-23T01:00:00Z', resources: [] }, 'resources: Too small'],
    ['missing executionId', { ...schedulerInput, executionId: undefined }, 'executionId:'],
    [
      'a running task event',
      { source: 'aws.ecs', 'detail-type': 'ECS Task State Change', detail: { taskArn: 'a', clusterArn: 'c', lastStatus: 'RUNNING', startedBy: 's' } },
      'detail.lastStatus',
    ],
  ])('rejects %s with a clear error', (_what, payload, message) => {
    expect(() => parse(payload)).toThrow(InvalidInvocationError);
    expect(() => parse(payload)).toThrow(message);
  });
});

describe("EventBridge Scheduler's default payload (a schedule without Input)", () => {
  const notification = {
    version: '0',
    id: '8e4b3a1f-5c2d-4e6f-9a7b-1c2d3e4f5a6b',
    'detail-type': 'Scheduled Event',
    source: 'aws.scheduler',
    account: '123456789012',
    time: '2026-11-23T01:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:scheduler:eu-west-1:123456789012:schedule/default/ecs-caretaker-prod-nightly'],
    detail: '{}',
  };

  it('runs the job of the schedule it names, at its time', () => {
    expect(parse(notification)).toEqual({
      kind: 'occurrence',
      job: config.jobs[1],
      occurrence: '2026-11-23T01:00:00.000Z',
      via: 'scheduler',
      deliveryId: notification.id,
    });
  });

  it("an empty payload is refused with an error that says the schedule's Input is missing and how to set it", () => {
    expect(() => parse({})).toThrow(InvalidInvocationError);
    expect(() => parse({})).toThrow(
      /payload is empty\. If EventBridge Scheduler sent it, the schedule's Input is missing .*redeploy the stack .*"scheduledTime":"<aws\.scheduler\.scheduled-time>"/,
    );
  });

  it('a notification that names no schedule, or a schedule of no job, says the Input is missing, never a word about rules', () => {
    for (const payload of [
      { ...notification, resources: [] },
      { ...notification, time: undefined },
      { ...notification, resources: ['arn:aws:scheduler:eu-west-1:123456789012:schedule/default/other'] },
      // the rule job's name, reached through the Scheduler
      { ...notification, resources: ['arn:aws:scheduler:eu-west-1:123456789012:schedule/default/my-schedule'] },
    ]) {
      expect(() => parse(payload)).toThrow(/the schedule's Input is missing/);
      expect(() => parse(payload)).not.toThrow(/rule ARN|"aws\.events"/);
    }
  });
});
