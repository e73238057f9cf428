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

export interface TableOptions {
  /** Point-in-time recovery (config.stack.pointInTimeRecovery); on by default. */
  pointInTimeRecovery?: boolean;
  /** config.stack.tableName: a fixed name, to keep the table of an earlier deployment. */
  tableName?: string;
}

/**
 * The state table. It has no fixed name: CloudFormation names it after the
 * stack and the logical id, with a random suffix (AWS::DynamoDB::Table
 * TableName: "If you don't specify a name, AWS CloudFormation generates a
 * unique physical ID"), so that a removed stack's retained table never blocks
 * the next deploy. The functions get the name through `{ Ref }` (TABLE_NAME).
 * Retained on stack deletion and protected from DeleteTable: the locks in it
 * are what keeps a job from running twice.
 */
export function tableResources({ pointInTimeRecovery = true, tableName }: TableOptions = {}): Resources {
  return {
    [TABLE_LOGICAL_ID]: {
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ...(tableName ? { TableName: tableName } : {}),
        BillingMode: 'PAY_PER_REQUEST',
        // `id` and `expiration` are the Powertools Idempotency defaults, so the table can serve it too.
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: pointInTimeRecovery },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    },
  };
}

/** The table's name as the functions receive it: resolved by CloudFormation at deploy time. */
export const TABLE_NAME_REF = { Ref: TABLE_LOGICAL_ID };

/**
 * Run Command writes a command's output to `/aws/ssm/<document name>` when no
 * log group is named (SSM API reference, CloudWatchOutputConfig
 * CloudWatchLogGroupName), and creates that group without retention if it does
 * not exist. Made by the stack, it expires like the functions' logs and goes
 * with the stack.
 */
export const RUN_COMMAND_LOG_GROUP_LOGICAL_ID = 'CleanupRunCommandLogGroup';
export function runCommandLogGroupResources(documentName: string, retentionInDays: number): Resources {
  return {
    [RUN_COMMAND_LOG_GROUP_LOGICAL_ID]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/ssm/${documentName}`, RetentionInDays: retentionInDays },
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
