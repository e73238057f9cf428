import { describe, expect, it } from 'vitest';
import { cleanupRequestProblems, isCleanupRequest } from '../../functions/shared/cleanup-request.ts';
import { eventIdOf, parseInvocation } from '../../functions/stopped-watch/input.ts';
import { scopeOf } from '../../functions/stopped-watch/scope.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';
import { flushEvent, snsWrapped, stoppedTask } from './support.ts';

describe('parseInvocation', () => {
  it('takes an EventBridge event as one record', () => {
    const event = loadAwsEvent('ecs-deployment-failed-docs.json');
    expect(parseInvocation(event)).toEqual({ kind: 'records', records: [{ index: 0, via: 'eventbridge', event, messageId: undefined }] });
  });

  it('unwraps every SNS record, and judges each on its own', () => {
    const good = stoppedTask();
    const parsed = parseInvocation(snsWrapped(good, '{"not": "an event"}', 'not json {', good));
    expect(parsed.kind).toBe('records');
    const records = (parsed as Extract<typeof parsed, { kind: 'records' }>).records;
    expect(records.map((r) => ('event' in r ? 'event' : r.error))).toEqual([
      'event',
      'Records[1].Sns.Message is not an EventBridge event: "detail-type" is missing',
      expect.stringMatching(/^Records\[2\]\.Sns\.Message is not JSON: /),
      'event',
    ]);
    expect(records.every((r) => r.via === 'sns' && typeof r.messageId === 'string')).toBe(true);
    expect('event' in records[0]! && records[0].event).toEqual(good);
  });

  it('names what is wrong with records that are not SNS notifications', () => {
    const parsed = parseInvocation({ Records: [{ eventSource: 'aws:sqs', body: '{}' }, null, { Sns: { Message: 42 } }] });
    expect(parsed).toMatchObject({
      kind: 'records',
      records: [
        { index: 0, error: 'Records[0].Sns is missing: not an SNS notification (EventSource "aws:sqs")' },
        { index: 1, error: 'Records[1] is not an object (null)' },
        { index: 2, error: 'Records[2].Sns.Message is not a string (number)' },
      ],
    });
  });

  it('recognises the flush schedule', () => {
    expect(parseInvocation(flushEvent())).toEqual({ kind: 'flush' });
    // The real Scheduled Event fixture is a schedule too.
    expect(parseInvocation(loadAwsEvent('scheduled-event-rule-dotnet.json'))).toEqual({ kind: 'flush' });
  });

  it('reports payloads that are not events at all', () => {
    expect(parseInvocation('hello')).toMatchObject({ records: [{ error: 'the invocation payload is not a JSON object (string)' }] });
    expect(parseInvocation([1])).toMatchObject({ records: [{ error: 'the invocation payload is not a JSON object (an array)' }] });
    expect(parseInvocation({ 'detail-type': 'ECS Task State Change', source: 'aws.ecs', detail: 'x' })).toMatchObject({
      records: [{ error: 'the invocation payload is not an EventBridge event: "detail" is not an object (string)' }],
    });
  });
});

describe('eventIdOf', () => {
  it('is the EventBridge id, and a content hash for an event without one', () => {
    expect(eventIdOf({ id: 'abc' })).toBe('abc');
    const a = eventIdOf({ 'detail-type': 'x', detail: { a: 1 } });
    expect(a).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(eventIdOf({ 'detail-type': 'x', detail: { a: 1 } })).toBe(a);
    expect(eventIdOf({ 'detail-type': 'x', detail: { a: 2 } })).not.toBe(a);
  });
});

describe('scopeOf', () => {
  it('reads cluster, service and task of the real payloads', () => {
    const scopes = Object.fromEntries([...loadAwsEvents()].filter(([, e]) => (e as any).source === 'aws.ecs').map(([f, e]) => [f, scopeOf(e)]));
    expect(scopes['ecs-task-state-change-stopped-essential-exit-multicontainer.json']).toMatchObject({
      cluster: 'test',
      service: 'example-api-v1',
      isService: true,
      taskArn: 'arn:aws:ecs:eu-central-1:111111111111:task/test/a6eaf0150a4248dAA1bcbd688121014e',
      region: 'eu-central-1',
      launchType: 'FARGATE',
    });
    expect(scopes['ecs-task-state-change-stopped-essential-exit-multicontainer.json']!.containerInstanceArn).toBeUndefined();
    expect(scopes['ecs-task-state-change-stopped-scaling-ec2-exit137.json']).toMatchObject({
      cluster: 'DemoTrafficGen01-EcsCluster97242B84-u8PnqOAmk1tO',
      service: 'DemoTrafficGen01-EcsService81FC6EF6-1MxpQy4jk934',
      containerInstanceArn: expect.stringContaining(':container-instance/'),
    });
    expect(scopes['ecs-deployment-failed-docs.json']).toMatchObject({
      cluster: 'default',
      service: 'servicetest',
      isService: true,
      deploymentId: 'ecs-svc/123',
    });
    expect(scopes['ecs-service-action-placement-failure-ec2-cpu-docs.json']).toMatchObject({ cluster: 'default', service: 'servicetest' });
    expect(scopes['ecs-container-instance-state-change-active-docs.json']).toMatchObject({
      cluster: 'default',
      service: 'container-instance',
      ec2InstanceId: 'i-f3a8506b',
    });
    // The 2018 example's group is "task-group": neither a service nor family:<x>; its family comes from the task definition.
    expect(scopes['ecs-task-state-change-container-exited-task-running-docs-2018.json']).toMatchObject({ service: 'family:xray', isService: false });
  });

  it('names a standalone task by its family, never by its task ARN', () => {
    expect(scopeOf(stoppedTask({ service: null, family: 'nightly-report' })).service).toBe('family:nightly-report');
    const noDefinition = stoppedTask({ service: null });
    delete noDefinition.detail.taskDefinitionArn;
    expect(scopeOf(noDefinition).service).toBe('standalone');
  });

  it('never throws, and keeps dimensions short and tame on malformed input', () => {
    for (const odd of [null, 42, 'x', [], {}, { detail: null }, { detail: { clusterArn: 7, group: {} } }]) expect(() => scopeOf(odd)).not.toThrow();
    expect(scopeOf({}).cluster).toBe('unknown');
    const weird = stoppedTask();
    weird.detail.group = `service:${'x'.repeat(400)} \n<script>`;
    const { service } = scopeOf(weird);
    expect(service.length).toBeLessThanOrEqual(255);
    expect(service).toMatch(/^[A-Za-z0-9_.:/-]+$/);
  });
});

describe('Cleanup Requested detail', () => {
  const valid = {
    cluster: 'prod',
    ec2InstanceId: 'i-0123456789abcdef0',
    containerInstanceArn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/c2df6e33804b4e12aab6ec6496fdef5d',
    reason: 'Thin Pool has 4350 free data blocks',
    requestedBy: 'stopped-watch',
  };

  it('accepts what stopped-watch sends, with or without the EC2 id', () => {
    expect(isCleanupRequest(valid)).toBe(true);
    const { ec2InstanceId: _, ...withoutId } = valid;
    expect(isCleanupRequest(withoutId)).toBe(true);
  });

  it('names every bad field', () => {
    expect(cleanupRequestProblems({ ...valid, cluster: '', ec2InstanceId: 'web-1', containerInstanceArn: 'c2df', requestedBy: 'me' })).toEqual([
      'detail.cluster: expected a cluster name',
      'detail.containerInstanceArn: expected a container instance ARN',
      'detail.ec2InstanceId: expected an EC2 instance id "i-..." when present',
      'detail.requestedBy: expected "stopped-watch"',
    ]);
    expect(cleanupRequestProblems(null)).toEqual(['detail: expected an object']);
  });
});
