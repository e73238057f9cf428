import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config.ts';
import { envJson } from '../../functions/shared/env.ts';
import { assertValidPattern } from '../../functions/shared/event-pattern.ts';
import { stoppedWatchEnvSchema } from '../../functions/stopped-watch/settings.ts';
import { STOPPED_WATCH_FLUSH_SCHEDULE, stoppedWatchFunction } from '../../infra/functions/stopped-watch.ts';
import { ruleRetryPolicy } from '../../infra/functions/types.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-alerts';
const spec = (config: Record<string, unknown>) => {
  const parsed = parseConfig({ clusters: [{ name: 'prod' }, { name: 'batch' }], ...config });
  return stoppedWatchFunction({ config: parsed, stage: 'test', prefix: 'cc-test', tableName: 'cc-test-state' });
};

describe('stopped-watch FunctionSpec', () => {
  it('passes the handler a configuration it accepts, with the alert settings', () => {
    const { definition } = spec({ alerts: { topicArn: TOPIC, minSeverity: 'medium', windowMinutes: 5 } });
    const settings = envJson('STOPPED_WATCH_CONFIG', stoppedWatchEnvSchema, { STOPPED_WATCH_CONFIG: definition.environment!.STOPPED_WATCH_CONFIG as string });
    expect(settings).toEqual({ clusters: ['prod', 'batch'], alerts: { topicArn: TOPIC, minSeverity: 'medium', windowMinutes: 5 }, requestCleanup: true });
    expect(definition.handler).toBe('functions/stopped-watch/handler.handler');
  });

  it('subscribes four valid patterns scoped to the clusters, each with the DLQ and retry policy, and the flush schedule', () => {
    const { definition } = spec({ alerts: { topicArn: TOPIC } });
    const rules = definition.events!.filter((e: any) => e.eventBridge).map((e: any) => e.eventBridge);
    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      assertValidPattern(rule.pattern);
      expect(rule.deadLetterQueueArn).toEqual({ 'Fn::GetAtt': ['StoppedWatchDlq', 'Arn'] });
      expect(rule.retryPolicy).toEqual(ruleRetryPolicy);
      expect(JSON.stringify(rule.pattern)).toMatch(/cluster\/prod|service\/prod\//);
      expect(rule.description.length).toBeLessThanOrEqual(512);
    }
  });

  it('flushes on a rule of its own whose target has a DLQ and gives up once the next flush is due', () => {
    const { definition, resources } = spec({ alerts: { topicArn: TOPIC } });
    expect(definition.events!.some((e: any) => e.schedule)).toBe(false);
    const rule = resources!.StoppedWatchEventsRuleSchedule1!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: STOPPED_WATCH_FLUSH_SCHEDULE, Description: expect.stringContaining('summaries') });
    expect(rule.Properties!.Targets).toEqual([
      expect.objectContaining({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['StoppedWatchDlq', 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
      }),
    ]);
    expect(STOPPED_WATCH_FLUSH_SCHEDULE).toBe('rate(1 minute)');
  });

  it('least privilege: Publish on the topic only, PutEvents on the default bus for our source only, no ECS access', () => {
    const { statements } = spec({ alerts: { topicArn: TOPIC } });
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['PublishAlerts', 'RequestCleanup', 'Table']);
    expect(bySid.PublishAlerts).toMatchObject({ Action: 'sns:Publish', Resource: TOPIC });
    expect(bySid.RequestCleanup).toMatchObject({
      Action: 'events:PutEvents',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
      Condition: { StringEquals: { 'events:source': 'ecs-caretaker' } },
    });
    expect(JSON.stringify(statements)).not.toContain('ecs:');
    expect(bySid.Table!.Action).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:PutItem']));
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });

  it('without a topic: no Publish permission and no flush schedule; without cleanup requests: no PutEvents nor ECS', () => {
    const quiet = spec({ stoppedWatch: { requestCleanup: false } });
    expect(quiet.statements.map((s) => s.Sid)).toEqual(['Table']);
    expect(Object.values(quiet.resources ?? {}).some((r) => r.Type === 'AWS::Events::Rule')).toBe(false);
    expect(quiet.definition.events!.filter((e: any) => e.eventBridge)).toHaveLength(4);
  });
});
