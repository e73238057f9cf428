import { describe, expect, it } from 'vitest';
import { InvalidInvocationError, parseInvocation } from '../../functions/audit/input.ts';
import { loadAwsEvent } from '../support/fixtures.ts';

const completed = () => loadAwsEvent('ecs-deployment-completed-docs.json');

describe('what starts an audit', () => {
  it('a Scheduled Event: every configured cluster', () => {
    expect(parseInvocation(loadAwsEvent('scheduled-event-rule-dotnet.json'))).toEqual({
      kind: 'schedule',
      eventId: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
      time: '1970-01-01T00:00:00Z',
    });
  });

  it.each([
    ['ecs-deployment-completed-docs.json', 'SERVICE_DEPLOYMENT_COMPLETED'],
    ['ecs-deployment-failed-docs.json', 'SERVICE_DEPLOYMENT_FAILED'],
  ])('%s: the one service, its cluster taken from the service ARN', (file, eventName) => {
    expect(parseInvocation(loadAwsEvent(file))).toEqual({
      kind: 'deployment',
      eventId: 'ddca6449-b258-46c0-8653-e0e3aEXAMPLE',
      time: '2020-05-23T12:31:14Z',
      cluster: 'default',
      service: 'servicetest',
      serviceArn: 'arn:aws:ecs:us-west-2:111122223333:service/default/servicetest',
      eventName,
      deploymentId: 'ecs-svc/123',
    });
  });
});

describe('a malformed event is refused with the field that is wrong', () => {
  const refused = (payload: unknown): string => {
    try {
      parseInvocation(payload);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInvocationError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it.each([
    [
      { ...completed(), detail: { ...completed().detail, eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' } },
      'detail.eventName: expected SERVICE_DEPLOYMENT_COMPLETED or SERVICE_DEPLOYMENT_FAILED, got "SERVICE_DEPLOYMENT_IN_PROGRESS"',
    ],
    [{ ...completed(), detail: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED' } }, 'detail.deploymentId:'],
    [{ ...completed(), resources: [] }, 'resources: expected the service ARN'],
    [{ ...completed(), resources: ['arn:aws:ecs:us-west-2:111122223333:service/servicetest'] }, 'resources: expected [0] to be a service ARN with its cluster'],
    [{ ...completed(), detail: 'SERVICE_DEPLOYMENT_COMPLETED' }, 'detail:'],
    [{ ...completed(), time: 'yesterday' }, 'time: expected an ISO-8601 time'],
    [{ ...loadAwsEvent('scheduled-event-rule-dotnet.json'), resources: [] }, 'Invalid EventBridge Scheduled Event: resources:'],
  ])('%#: %s', (payload, message) => {
    expect(refused(payload)).toContain(message);
  });

  it('names what it expected for anything else', () => {
    expect(refused(loadAwsEvent('ecs-task-state-change-running-fargate-docs.json'))).toBe(
      'Invalid invocation: expected an EventBridge Scheduled Event (source "aws.events") or an ECS Deployment State Change (source "aws.ecs"), got source "aws.ecs", detail-type "ECS Task State Change"',
    );
    expect(refused('{"source":"aws.events"}')).toBe('Invalid invocation: expected an EventBridge event (a JSON object), got string');
    expect(refused(null)).toBe('Invalid invocation: expected an EventBridge event (a JSON object), got null');
  });
});
