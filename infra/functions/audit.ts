import { deploymentFinishedPattern } from '../../functions/audit/events.ts';
import { auditConfigFrom, settingsFromConfig } from '../../functions/audit/settings.ts';
import { inClusters, tableReadWrite, type Statement } from '../iam.ts';
import { dlqLogicalId } from '../resources.ts';
import { handlerExport } from './ids.ts';
import { ruleRetryPolicy, type DeployContext, type FunctionSpec } from './types.ts';

const sub = (text: string) => ({ 'Fn::Sub': text });

/**
 * audit: the scheduled audit of every configured cluster, and the audit of a
 * service whose deployment completed or failed; findings as metrics, one
 * digest per run to alerts.topicArn. Read-only on ECS and ELBv2. Left out
 * when both triggers are off.
 */
export function auditFunction({ config }: DeployContext): FunctionSpec | undefined {
  const settings = settingsFromConfig(config);
  const { schedule, onDeployment } = auditConfigFrom(config);
  if (schedule === null && !onDeployment) return undefined;
  const { clusters } = settings;

  const deadLetterQueueArn = { 'Fn::GetAtt': [dlqLogicalId('audit'), 'Arn'] };
  const events = [
    // No input: the function receives the whole Scheduled Event and recognises it by its detail-type.
    ...(schedule
      ? [
          {
            eventBridge: {
              schedule,
              description: `ecs-caretaker audit: ${clusters.join(', ')}`.slice(0, 512),
              deadLetterQueueArn,
              retryPolicy: ruleRetryPolicy,
            },
          },
        ]
      : []),
    ...(onDeployment
      ? [
          {
            eventBridge: {
              pattern: deploymentFinishedPattern(clusters),
              description: 'ecs-caretaker audit: a service whose deployment completed or failed',
              deadLetterQueueArn,
              retryPolicy: ruleRetryPolicy,
            },
          },
        ]
      : []),
  ];

  // Resource types and condition keys as the Service Authorization Reference lists them for each action.
  const statements: Statement[] = [
    // get, then put conditional on the version read (functions/audit/digest-state.ts).
    tableReadWrite(['dynamodb:GetItem', 'dynamodb:PutItem']),
    // ListServices has no resource type, only the ecs:cluster condition key.
    { Sid: 'ListServices', Effect: 'Allow', Action: 'ecs:ListServices', Resource: '*', Condition: inClusters(clusters) },
    {
      Sid: 'DescribeServices',
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: clusters.map((c) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:service/${c}/*`)),
      Condition: inClusters(clusters),
    },
    // DescribeTaskDefinition has neither a resource type nor a condition key: "*" is the only resource it can be granted on.
    { Sid: 'DescribeTaskDefinitions', Effect: 'Allow', Action: 'ecs:DescribeTaskDefinition', Resource: '*' },
    // Neither has a resource type (ELBv2 Describe* are account-wide reads); naming the two actions keeps out DescribeListeners, DescribeRules and the rest.
    {
      Sid: 'DescribeTargetGroups',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes'],
      Resource: '*',
    },
  ];
  if (settings.alerts.topicArn) statements.push({ Sid: 'PublishDigest', Effect: 'Allow', Action: 'sns:Publish', Resource: settings.alerts.topicArn });

  return {
    id: 'audit',
    definition: {
      handler: handlerExport('audit'),
      description: 'Audits ECS services, task definitions and target groups for settings that slow deployments, stall drains or make health checks lie',
      // A 500-service cluster is about 50 DescribeServices, up to 500 DescribeTaskDefinition and as many target group reads, one after another.
      timeout: 300,
      memorySize: 256,
      environment: { AUDIT_CONFIG: JSON.stringify(settings) },
      events,
    },
    statements,
  };
}
