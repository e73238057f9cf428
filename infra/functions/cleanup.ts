import { ConfigError, type CaretakerConfig } from '../../functions/shared/config.ts';
import { cleanupPatterns } from '../../functions/cleanup/events.ts';
import { cleanupAlarmNamePrefix, settingsFromConfig } from '../../functions/cleanup/settings.ts';
import { arn, inClusters, tableReadWrite, type Statement } from '../iam.ts';
import { dlqLogicalId, lambdaLogicalId, type Resources } from '../resources.ts';
import { cleanupDocumentResource } from '../ssm-document.ts';
import { handlerExport } from './ids.ts';
import { ruleRetryPolicy, type DeployContext, type FunctionSpec } from './types.ts';

export const CLEANUP_DOCUMENT_LOGICAL_ID = 'CleanupDocument';
export const CLEANUP_ALARM_PERMISSION_LOGICAL_ID = 'CleanupAlarmActionPermission';

/** The document is named, not generated, so that the report rule can match its name in the status events. */
export const cleanupDocumentName = (prefix: string): string => `${prefix}-docker-cleanup`;

const sub = (text: string) => ({ 'Fn::Sub': text });

/**
 * osls resolves `${...}` in every string of serverless.ts, the resources
 * included, and stops at the script's bash expansions (`${errs:+,}` reads as
 * a variable of source "errs"). A backslash keeps `${` literal; backslashes
 * that already stand before it are doubled first, because osls halves a run
 * of them there (osls lib/configuration/variables/parse.js).
 */
export function escapeFrameworkVariables<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/(\\*)\$\{/g, (_, slashes: string) => `${slashes}${slashes}\\\${`) as T;
  if (Array.isArray(value)) return value.map((item) => escapeFrameworkVariables(item)) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeFrameworkVariables(v)])) as T;
  return value;
}

export function checkCleanupConfig(config: CaretakerConfig, prefix: string): void {
  const issues: string[] = [];
  // Document names: 3-128 of [a-zA-Z0-9_.-], and "aws", "amazon" and "amzn" are reserved prefixes (SSM API reference, CreateDocument Name).
  const name = cleanupDocumentName(prefix);
  if (/^(aws|amazon|amzn)/i.test(name))
    issues.push(`config.service: "${config.service}" would name the SSM document "${name}", but SSM reserves names starting with aws, amazon or amzn`);
  if (!/^[a-zA-Z0-9_.-]{3,128}$/.test(name))
    issues.push(`config.service: the SSM document name "${name}" must be 3-128 letters, digits, "_", "." or "-" (check the stage name too)`);
  if (issues.length) throw new ConfigError(`Invalid config:\n  ${issues.join('\n  ')}`, issues);
}

/**
 * cleanup: the SSM document, one schedule per cluster, the alarm, request and
 * report rules, the permission for CloudWatch alarm actions, and a role that
 * may run that one document on the configured clusters' instances only.
 */
export function cleanupFunction({ config, prefix }: DeployContext): FunctionSpec {
  checkCleanupConfig(config, prefix);
  const clusters = config.clusters.map((c) => c.name);
  const { cleanup } = config;
  const documentName = cleanupDocumentName(prefix);
  const alarmNamePrefix = cleanupAlarmNamePrefix(prefix);
  const patterns = cleanupPatterns({ alarmNamePrefix, documentName });
  const deadLetterQueueArn = { 'Fn::GetAtt': [dlqLogicalId('cleanup'), 'Arn'] };
  const rule = (pattern: unknown, description: string) => ({ eventBridge: { pattern, description, deadLetterQueueArn, retryPolicy: ruleRetryPolicy } });

  const document = cleanupDocumentResource({ timeoutSeconds: cleanup.timeoutSeconds });
  const resources: Resources = {
    [CLEANUP_DOCUMENT_LOGICAL_ID]: {
      ...document,
      // NewVersion: a content change becomes the document's new default version under the same
      // name; "Replace" would create the new document before deleting the old one, and a fixed
      // name cannot exist twice (CloudFormation, AWS::SSM::Document UpdateMethod).
      Properties: { ...document.Properties, Content: escapeFrameworkVariables(document.Properties.Content), Name: documentName, UpdateMethod: 'NewVersion' },
    },
    // For alarms that name the function as their action directly (Lambda alarm actions need a
    // resource policy for lambda.alarms.cloudwatch.amazonaws.com, CloudWatch user guide).
    [CLEANUP_ALARM_PERMISSION_LOGICAL_ID]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [lambdaLogicalId('cleanup'), 'Arn'] },
        Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: sub(`arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${alarmNamePrefix}*`),
      },
    },
  };

  const schedules =
    cleanup.schedule === null
      ? []
      : clusters.map((cluster) => ({
          eventBridge: {
            schedule: cleanup.schedule,
            input: { cluster, trigger: 'schedule' },
            description: `ecs-caretaker cleanup: fleet-wide run on cluster ${cluster}`.slice(0, 512),
            deadLetterQueueArn,
            retryPolicy: ruleRetryPolicy,
          },
        }));

  // Only on instances carrying the operator's tag. The Service Authorization Reference (AWS Systems
  // Manager, "Actions defined by") lists aws:ResourceTag/${TagKey} and ssm:resourceTag/${TagKey} for
  // SendCommand on the instance resource; ssm:resourceTag is the one the SSM user guide uses for
  // Run Command on EC2 instances ("Restricting Run Command access based on tags"). The schema
  // refuses an aws: tag key, for which SSM does not document that it fills the key.
  const { instanceTag } = cleanup;
  const instanceScope: Statement = {
    Sid: 'RunOnTaggedInstances',
    Effect: 'Allow',
    Action: 'ssm:SendCommand',
    Resource: sub('arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*'),
    Condition: { StringEquals: { [`ssm:resourceTag/${instanceTag.key}`]: instanceTag.value } },
  };

  const statements: Statement[] = [
    tableReadWrite(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']),
    {
      Sid: 'RunCleanupDocument',
      Effect: 'Allow',
      Action: 'ssm:SendCommand',
      Resource: sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${documentName}`),
    },
    instanceScope,
    // These reads have no resource type in the Service Authorization Reference (Systems Manager): "*" is the only resource.
    { Sid: 'ReadRunCommand', Effect: 'Allow', Action: ['ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:DescribeInstanceInformation'], Resource: '*' },
    // ListContainerInstances is authorized on the cluster resource and has no ecs:cluster key (Service Authorization Reference, Amazon ECS).
    { Sid: 'ListContainerInstances', Effect: 'Allow', Action: 'ecs:ListContainerInstances', Resource: clusters.map(arn.cluster) },
    {
      Sid: 'DescribeContainerInstances',
      Effect: 'Allow',
      Action: 'ecs:DescribeContainerInstances',
      Resource: clusters.map((c) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:container-instance/${c}/*`)),
      Condition: inClusters(clusters),
    },
  ];

  return {
    id: 'cleanup',
    resources,
    definition: {
      handler: handlerExport('cleanup'),
      description: 'Runs the docker cleanup SSM document on ECS container instances (schedule, disk alarms, requests) and publishes its reports as metrics',
      // A 5,000-instance run is about 100 ECS, 100 SSM and 5,000 DynamoDB calls; the report collector takes well under a second.
      timeout: 300,
      memorySize: 256,
      environment: {
        CLEANUP_CONFIG: JSON.stringify(settingsFromConfig(config, { prefix })),
        CLEANUP_DOCUMENT_NAME: { Ref: CLEANUP_DOCUMENT_LOGICAL_ID },
      },
      events: [
        ...schedules,
        rule(patterns.alarm, `ecs-caretaker cleanup: CloudWatch alarms named ${alarmNamePrefix}* going to ALARM`),
        rule(patterns.request, 'ecs-caretaker cleanup: Cleanup Requested events (stopped-watch)'),
        rule(patterns.invocation, `ecs-caretaker cleanup: final status of ${documentName} invocations, to collect their reports`),
      ],
    },
    statements,
  };
}
