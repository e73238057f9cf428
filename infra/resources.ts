/**
 * CloudFormation resources shared by the functions: the single table, one DLQ
 * per function with an alarm on its depth, and the async-invoke settings that
 * send a function's final failures to its DLQ.
 */
import { functionKey, logicalIdStem, type FunctionId } from './functions/ids.ts';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; [key: string]: unknown };
export type Resources = Record<string, Resource>;

export const TABLE_LOGICAL_ID = 'CaretakerTable';

/** osls names a function's resource `<Key>LambdaFunction`, its key with the first letter upper-cased. */
export const lambdaLogicalId = (id: FunctionId): string => `${logicalIdStem(id)}LambdaFunction`;
export const dlqLogicalId = (id: FunctionId): string => `${logicalIdStem(id)}Dlq`;
export const roleLogicalId = (id: FunctionId): string => `${logicalIdStem(id)}Role`;

export function tableResources(tableName: string): Resources {
  return {
    [TABLE_LOGICAL_ID]: {
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        // `id` and `expiration` are the Powertools Idempotency defaults, so the table can serve it too.
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    },
  };
}

export interface DlqOptions {
  id: FunctionId;
  queueName: string;
  /** `<prefix>-ops-...` (infra/alarms.ts opsAlarmName), never under the cleanup alarm prefix */
  alarmName: string;
  alarmTopicArn?: string;
  /** topics whose subscriptions redrive undeliverable messages to this queue */
  snsTopicArns?: string[];
  /** roles that send dead letters with their own credentials (a Scheduler schedule's execution role) */
  senderRoleArns?: unknown[];
  /** how long Lambda keeps an async event for retries before it goes to the DLQ; Lambda's default, 6 h, unless given */
  maxEventAgeSeconds?: number;
}

/**
 * The DLQ receives (1) the function's async invocations that failed after
 * Lambda's retries, via an on-failure destination, and (2) events EventBridge
 * could not deliver at all, via the rule target's dead-letter config.
 */
export function dlqResources({
  id,
  queueName,
  alarmName,
  alarmTopicArn,
  snsTopicArns = [],
  senderRoleArns = [],
  maxEventAgeSeconds = 21_600,
}: DlqOptions): Resources {
  const queue = dlqLogicalId(id);
  const fn = lambdaLogicalId(id);
  return {
    [queue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        MessageRetentionPeriod: 1_209_600, // 14 days, the SQS maximum: time to inspect and redrive
        SqsManagedSseEnabled: true,
      },
    },
    [`${queue}Policy`]: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'EventBridgeDeadLetters',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
            // An SNS subscription's dead-letter queue must let the topic send (SNS developer guide, "Amazon SNS dead-letter queues").
            ...(snsTopicArns.length
              ? [
                  {
                    Sid: 'SnsDeadLetters',
                    Effect: 'Allow',
                    Principal: { Service: 'sns.amazonaws.com' },
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
                    Condition: { ArnEquals: { 'aws:SourceArn': snsTopicArns } },
                  },
                ]
              : []),
            // Same account, so the role's own policy would do; naming it here too keeps every sender of the queue in one place.
            ...(senderRoleArns.length
              ? [
                  {
                    Sid: 'RoleDeadLetters',
                    Effect: 'Allow',
                    Principal: { AWS: senderRoleArns },
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
                  },
                ]
              : []),
          ],
        },
      },
    },
    [`${queue}Alarm`]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName,
        AlarmDescription: `Events that ${functionKey(id)} could not process are waiting in ${queueName}. Inspect, fix, then redrive.`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        ...(alarmTopicArn ? { AlarmActions: [alarmTopicArn], OKActions: [alarmTopicArn] } : {}),
      },
    },
    [`${fn}EventInvokeConfig`]: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: {
        FunctionName: { Ref: fn },
        Qualifier: '$LATEST',
        // Lambda's default for async invocations, stated so it is not changed by accident.
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: maxEventAgeSeconds,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      },
    },
  };
}
