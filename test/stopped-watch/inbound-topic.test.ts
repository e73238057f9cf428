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
  it('is optional: without it the function has no SNS event', () => {
    expect(spec({}).definition.events!.some((e: any) => e.sns)).toBe(false);
  });

  it('becomes one SNS event of the function', () => {
    expect(spec({ inboundTopicArn: INBOUND }).definition.events!.filter((e: any) => e.sns)).toEqual([{ sns: { arn: INBOUND } }]);
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
  }, 120_000);

  const fnRef = (value: any) => value?.['Fn::GetAtt']?.[0] ?? value?.Ref;

  it('subscribes the stopped-watch function (and nothing else) to the topic, in the topic’s region', () => {
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription');
    expect(subscriptions).toHaveLength(1);
    const [, subscription] = subscriptions[0]!;
    expect(subscription.Properties).toMatchObject({ TopicArn: INBOUND, Protocol: 'lambda', Region: 'us-east-1' });
    expect(fnRef(subscription.Properties.Endpoint)).toBe('StoppedWatchLambdaFunction');
  });

  it('lets SNS invoke the function, from that topic only', () => {
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'sns.amazonaws.com');
    expect(permissions).toHaveLength(1);
    const [, permission] = permissions[0]!;
    expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', SourceArn: INBOUND });
    expect(fnRef(permission.Properties.FunctionName)).toBe('StoppedWatchLambdaFunction');
  });
});
