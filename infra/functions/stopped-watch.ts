import { CLEANUP_REQUEST_SOURCE } from '../../functions/shared/cleanup-request.ts';
import { stoppedWatchPatterns } from '../../functions/stopped-watch/events.ts';
import { settingsFromConfig } from '../../functions/stopped-watch/settings.ts';
import { tableReadWrite, type Statement } from '../iam.ts';
import { dlqLogicalId, type Resources } from '../resources.ts';
import { ruleSchedule, snsSubscription } from '../schedules.ts';
import { handlerExport } from './ids.ts';
import { ruleRetryPolicy, type DeployContext, type FunctionSpec } from './types.ts';

/** How often ended alert windows are summarised: a summary is at most this late. */
export const STOPPED_WATCH_FLUSH_SCHEDULE = 'rate(1 minute)';

const RULE_DESCRIPTIONS = {
  taskStopped: 'ECS tasks STOPPED',
  serviceAction: 'ECS service WARN/ERROR actions (placement failures, task start impaired)',
  deployment: 'ECS deployments failed or rolling back',
  agentDisconnected: 'ECS container instances whose agent disconnected',
} as const;

const sub = (text: string) => ({ 'Fn::Sub': text });

/** stopped-watch: classifies stops and service/deployment/agent trouble, alerts with a rate limit, asks cleanup for full disks. */
export function stoppedWatchFunction({ config }: DeployContext): FunctionSpec {
  const settings = settingsFromConfig(config);
  const clusters = settings.clusters;
  const topicArn = settings.alerts.topicArn;
  const dlqArn = { 'Fn::GetAtt': [dlqLogicalId('stopped-watch'), 'Arn'] };

  const rules = Object.entries(stoppedWatchPatterns(clusters)).map(([name, pattern]) => ({
    eventBridge: {
      pattern,
      description: `ecs-caretaker stopped-watch: ${RULE_DESCRIPTIONS[name as keyof typeof RULE_DESCRIPTIONS]}`,
      deadLetterQueueArn: dlqArn,
      retryPolicy: ruleRetryPolicy,
    },
  }));
  // Plain CloudFormation rather than osls `schedule`/`sns` events, which have no DLQ (infra/schedules.ts).
  // An inbound topic: a subscription whose undeliverable messages go to the DLQ, and the permission for SNS to invoke.
  const inboundTopicArn = config.stoppedWatch.inboundTopicArn;
  const resources: Resources = inboundTopicArn ? snsSubscription('stopped-watch', inboundTopicArn) : {};
  // Without a topic there is nothing to summarise, so no schedule either.
  if (topicArn) {
    Object.assign(
      resources,
      ruleSchedule({
        id: 'stopped-watch',
        index: 1,
        expression: STOPPED_WATCH_FLUSH_SCHEDULE,
        description: 'ecs-caretaker stopped-watch: send the summaries of ended alert windows',
        // A flush retried after the next one is due is useless: the next one does the same work.
        retry: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 2 },
      }),
    );
  }

  const statements: Statement[] = [
    // Scan: the flush looks for alert windows that owe a summary (see functions/stopped-watch/alert-store.ts).
    tableReadWrite(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']),
  ];
  if (topicArn) statements.push({ Sid: 'PublishAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn });
  if (settings.requestCleanup) {
    statements.push({
      Sid: 'RequestCleanup',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'),
      // Only our own custom source: the role cannot impersonate aws.* or another application on the default bus
      // (events:source, listed for PutEvents in the Service Authorization Reference, Amazon EventBridge).
      Condition: { StringEquals: { 'events:source': CLEANUP_REQUEST_SOURCE } },
    });
  }

  return {
    id: 'stopped-watch',
    definition: {
      handler: handlerExport('stopped-watch'),
      description: 'Classifies why ECS tasks stop, publishes metrics, sends rate-limited alerts with a fix hint, requests cleanup of full disks',
      timeout: 30,
      memorySize: 256,
      environment: { STOPPED_WATCH_CONFIG: JSON.stringify(settings) },
      events: rules,
    },
    resources,
    statements,
  };
}
