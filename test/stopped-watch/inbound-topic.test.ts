import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../functions/shared/config.ts';
import { stoppedWatchFunction } from '../../infra/functions/stopped-watch.ts';
import { repoRoot } from '../support/fixtures.ts';
import { packageService, resourcesOfType, type Template } from '../support/package.ts';

const INBOUND = 'arn:aws:sns:us-east-1:210987654321:ecs-events-relay';
const spec = (stoppedWatch: Record<string, unknown>) =>
  stoppedWatchFunction({ config: parseConfig({ clusters: [{ name: 'prod' }], stoppedWatch }), stage: 'test', prefix: 'cc-test', tableName: 'cc-test-state' });

describe('stoppedWatch.inboundTopicArn in the config', () => {
  const subscriptions = (s: ReturnType<typeof spec>) => Object.values(s.resources ?? {}).filter((r) => r.Type === 'AWS::SNS::Subscription');

  it('is optional: without it the function has no SNS subscription', () => {
    expect(subscriptions(spec({}))).toEqual([]);
  });

  it('becomes one subscription of the function, whose undeliverable messages go to its DLQ', () => {
    const subscribed = subscriptions(spec({ inboundTopicArn: INBOUND }));
    expect(subscribed).toHaveLength(1);
    expect(subscribed[0]!.Properties).toMatchObject({
      TopicArn: INBOUND,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['StoppedWatchDlq', 'Arn'] } },
    });
  });

  it('must be an SNS topic ARN', () => {
    expect(() => parseConfig({ clusters: [{ name: 'prod' }], stoppedWatch: { inboundTopicArn: 'ecs-events-relay' } })).toThrow(ConfigError);
    expect(() => parseConfig({ clusters: [{ name: 'prod' }], stoppedWatch: { inboundTopicArn: 'arn:aws:sqs:us-east-1:210987654321:q' } })).toThrow(/SNS|sns/);
  });
});

describe('packaged template with an inbound topic', () => {
  let template: Template;
  beforeAll(async () => {
    ({ template } = await packageService(join(repoRoot, 'test/fixtures/caretaker-inbound.config.ts')));
  }, 600_000);

  const fnRef = (value: any) => value?.['Fn::GetAtt']?.[0] ?? value?.Ref;

  it('subscribes the stopped-watch function (and nothing else) to the topic, in the topic’s region', () => {
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription');
    expect(subscriptions).toHaveLength(1);
    const [, subscription] = subscriptions[0]!;
    expect(subscription.Properties).toMatchObject({ TopicArn: INBOUND, Protocol: 'lambda', Region: 'us-east-1' });
    expect(fnRef(subscription.Properties.Endpoint)).toBe('StoppedWatchLambdaFunction');
  });

  it('lets that topic, and only it, send to the DLQ', () => {
    const policy = template.Resources.StoppedWatchDlqPolicy!.Properties.PolicyDocument.Statement.find((s: any) => s.Principal.Service === 'sns.amazonaws.com');
    expect(policy).toMatchObject({ Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': [INBOUND] } } });
    expect(resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(([, p]) => JSON.stringify(p.Properties.Queues).includes('StoppedWatchDlq'))).toHaveLength(
      1,
    );
  });

  it('lets SNS invoke the function, from that topic only', () => {
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'sns.amazonaws.com');
    expect(permissions).toHaveLength(1);
    const [, permission] = permissions[0]!;
    expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', SourceArn: INBOUND });
    expect(fnRef(permission.Properties.FunctionName)).toBe('StoppedWatchLambdaFunction');
  });
});
