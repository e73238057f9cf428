import { describe, expect, it } from 'vitest';
import { auditEnvSchema } from '../../functions/audit/settings.ts';
import { deploymentFinishedPattern } from '../../functions/audit/events.ts';
import { parseConfig, ConfigError, type CaretakerConfig } from '../../functions/shared/config.ts';
import { envJson } from '../../functions/shared/env.ts';
import { assertValidPattern } from '../../functions/shared/event-pattern.ts';
import { auditFunction } from '../../infra/functions/audit.ts';
import { ruleRetryPolicy } from '../../infra/functions/types.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-alerts';
const DLQ = { 'Fn::GetAtt': ['AuditDlq', 'Arn'] };

/** A parsed configuration, with an `audit` section as configSchema will carry it. */
const spec = (config: Record<string, unknown> = {}, audit?: Record<string, unknown>) => {
  const parsed: CaretakerConfig = parseConfig({ clusters: [{ name: 'prod' }, { name: 'batch' }], alerts: { topicArn: TOPIC }, ...config });
  return auditFunction({ config: audit ? ({ ...parsed, audit } as CaretakerConfig) : parsed, stage: 'test', prefix: 'cc-test', tableName: 'cc-test-state' });
};

describe('audit FunctionSpec', () => {
  it('passes the handler a configuration it accepts', () => {
    const { definition, id } = spec({ alerts: { topicArn: TOPIC, minSeverity: 'medium' } })!;
    expect(id).toBe('audit');
    expect(definition.handler).toBe('functions/audit/handler.handler');
    const settings = envJson('AUDIT_CONFIG', auditEnvSchema, { AUDIT_CONFIG: definition.environment!.AUDIT_CONFIG as string });
    expect(settings).toEqual({ clusters: ['prod', 'batch'], alerts: { topicArn: TOPIC, minSeverity: 'medium' } });
    expect(definition.timeout).toBe(300);
  });

  it('runs daily and after every finished deployment of the configured clusters, both with the DLQ and retry policy', () => {
    const events = spec()!.definition.events as Array<{ eventBridge: Record<string, any> }>;
    expect(events.map((e) => e.eventBridge)).toEqual([
      { schedule: 'rate(1 day)', description: 'ecs-caretaker audit: prod, batch', deadLetterQueueArn: DLQ, retryPolicy: ruleRetryPolicy },
      {
        pattern: deploymentFinishedPattern(['prod', 'batch']),
        description: expect.stringContaining('deployment completed or failed'),
        deadLetterQueueArn: DLQ,
        retryPolicy: ruleRetryPolicy,
      },
    ]);
    assertValidPattern(events[1]!.eventBridge.pattern);
    // No input: the handler receives the Scheduled Event itself.
    expect(events[0]!.eventBridge.input).toBeUndefined();
  });

  it('takes the audit section: another schedule, no deployments, or nothing to deploy at all', () => {
    const cron = spec({}, { schedule: 'cron(0 6 ? * MON-FRI *)', onDeployment: false })!;
    expect((cron.definition.events as Array<{ eventBridge: Record<string, unknown> }>).map((e) => Object.keys(e.eventBridge).includes('pattern'))).toEqual([
      false,
    ]);
    expect((cron.definition.events as Array<{ eventBridge: { schedule?: string } }>)[0]!.eventBridge.schedule).toBe('cron(0 6 ? * MON-FRI *)');
    const deploymentsOnly = spec({}, { schedule: null })!;
    expect((deploymentsOnly.definition.events as Array<{ eventBridge: Record<string, unknown> }>).map((e) => 'pattern' in e.eventBridge)).toEqual([true]);
    expect(spec({}, { schedule: null, onDeployment: false })).toBeUndefined();
    expect(() => spec({}, { schedule: 'every day' })).toThrow('config.audit.schedule: expected rate(...) or cron(...)');
    expect(() => spec({}, { onDeploy: true })).toThrow(ConfigError);
  });

  it('least privilege: reads scoped as far as IAM allows, Publish on the topic only, the table only', () => {
    const { statements } = spec()!;
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'DescribeServices',
      'DescribeTargetGroups',
      'DescribeTaskDefinitions',
      'ListServices',
      'PublishDigest',
      'Table',
    ]);
    const clusters = {
      ArnEquals: {
        'ecs:cluster': [
          { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/prod' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/batch' },
        ],
      },
    };
    expect(bySid.ListServices).toEqual({ Sid: 'ListServices', Effect: 'Allow', Action: 'ecs:ListServices', Resource: '*', Condition: clusters });
    expect(bySid.DescribeServices).toEqual({
      Sid: 'DescribeServices',
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/prod/*' },
        { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/batch/*' },
      ],
      Condition: clusters,
    });
    expect(bySid.DescribeTaskDefinitions).toMatchObject({ Action: 'ecs:DescribeTaskDefinition', Resource: '*' });
    expect(bySid.DescribeTargetGroups).toMatchObject({
      Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes'],
      Resource: '*',
    });
    expect(bySid.PublishDigest).toMatchObject({ Action: 'sns:Publish', Resource: TOPIC });
    expect(bySid.Table).toMatchObject({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': ['CaretakerTable', 'Arn'] } });
    // Every `*` is on a read-only action (the template test's rule).
    for (const s of statements.filter((st) => st.Resource === '*')) {
      for (const action of [s.Action].flat()) expect(action).toMatch(/^[a-z0-9-]+:(Describe|List|Get)/);
    }
  });

  it('without a topic: no Publish permission', () => {
    expect(spec({ alerts: {} })!.statements.map((s) => s.Sid)).not.toContain('PublishDigest');
  });

  it('takes more clusters than the 4 KB Lambda environment held (the settings go into the bundle)', () => {
    const clusters = Array.from({ length: 60 }, (_, i) => ({ name: `cluster-with-a-rather-long-name-${String(i).padStart(3, '0')}-${'x'.repeat(60)}` }));
    const settings = spec({ clusters })!.definition.environment!.AUDIT_CONFIG as string;
    expect(Buffer.byteLength(settings)).toBeGreaterThan(4096);
    expect(JSON.parse(settings).clusters).toHaveLength(60);
  });
});
