import { createHash } from 'node:crypto';
import { DRAIN_FUNCTION_TIMEOUT_SECONDS } from '../../functions/shared/config.ts';
import { drainPatterns } from '../../functions/drain/events.ts';
import { settingsFromConfig } from '../../functions/drain/settings.ts';
import { arn, inClusters, tableReadWrite, type Statement } from '../iam.ts';
import { dlqLogicalId, type Resources } from '../resources.ts';
import { handlerExport } from './ids.ts';
import { ruleRetryPolicy, type DeployContext, type FunctionSpec } from './types.ts';

const sub = (text: string) => ({ 'Fn::Sub': text });

/** The ARN of an ASG by name; its id part is a wildcard, since it is only known once the group exists. */
export const asgArn = (name: string) =>
  sub(`arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${name}`);

/** CloudFormation logical ids are alphanumeric; the hash keeps two ASG names that differ only in punctuation apart. */
export const hookLogicalId = (asg: string): string =>
  `DrainHook${asg.replace(/[^A-Za-z0-9]/g, '').slice(0, 200)}${createHash('sha256').update(asg).digest('hex').slice(0, 8)}`;

/**
 * drain: a termination lifecycle hook on every configured ASG, the rules that
 * feed the function (lifecycle actions, STOPPED tasks and DRAINING container
 * instances of the configured clusters, the reconcile tick, optionally Spot
 * interruption warnings), and a role scoped to those clusters and ASGs.
 * Without any ASG configured there is nothing to drain and no function.
 */
export function drainFunction({ config }: DeployContext): FunctionSpec | undefined {
  const asgs = [...new Set(config.clusters.flatMap((c) => c.asgs))];
  if (asgs.length === 0) return undefined;
  const clusters = config.clusters.map((c) => c.name);
  const { drain } = config;
  const patterns = drainPatterns(config);
  const deadLetterQueueArn = { 'Fn::GetAtt': [dlqLogicalId('drain'), 'Arn'] };
  const rule = (pattern: unknown) => ({ eventBridge: { pattern, deadLetterQueueArn, retryPolicy: ruleRetryPolicy } });

  const resources: Resources = Object.fromEntries(
    asgs.map((name) => [
      hookLogicalId(name),
      {
        Type: 'AWS::AutoScaling::LifecycleHook',
        Properties: {
          AutoScalingGroupName: name,
          LifecycleHookName: drain.hookName,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: drain.heartbeatTimeoutSeconds,
          // If ecs-caretaker itself is down, the instance still goes after HeartbeatTimeout:
          // a stuck scale-in would be worse than an undrained instance.
          DefaultResult: 'CONTINUE',
        },
      },
    ]),
  );

  const statements: Statement[] = [
    tableReadWrite(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']),
    {
      Sid: 'LifecycleActions',
      Effect: 'Allow',
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      Resource: asgs.map(asgArn),
    },
    // ListContainerInstances is authorized on the cluster resource and has no ecs:cluster key (Service Authorization Reference, Amazon ECS).
    { Sid: 'FindContainerInstances', Effect: 'Allow', Action: 'ecs:ListContainerInstances', Resource: clusters.map(arn.cluster) },
    {
      Sid: 'DrainContainerInstances',
      Effect: 'Allow',
      Action: ['ecs:DescribeContainerInstances', 'ecs:UpdateContainerInstancesState'],
      Resource: clusters.map((c) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:container-instance/${c}/*`)),
      Condition: inClusters(clusters),
    },
    {
      Sid: 'ReadAndStopTasks',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
      Resource: clusters.map(arn.tasksOf),
      Condition: inClusters(clusters),
    },
    {
      Sid: 'DescribeServices',
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: clusters.map((c) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:service/${c}/*`)),
      Condition: inClusters(clusters),
    },
    // Read-only lists: "*" works whatever resource type the action is authorized on, and the
    // ecs:cluster condition keeps them to the configured clusters.
    { Sid: 'ListTasksAndServices', Effect: 'Allow', Action: ['ecs:ListTasks', 'ecs:ListServices'], Resource: '*', Condition: inClusters(clusters) },
    // Capacity providers are account-level and the action has no cluster condition key.
    { Sid: 'DescribeCapacityProviders', Effect: 'Allow', Action: 'ecs:DescribeCapacityProviders', Resource: '*' },
    // The tick asks which instances wait in Terminating:Wait. DescribeAutoScalingGroups supports no
    // resource-level permission, so its Resource must be "*" (Service Authorization Reference,
    // "Actions, resources, and condition keys for Amazon EC2 Auto Scaling"); it only reads.
    { Sid: 'FindTerminatingInstances', Effect: 'Allow', Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' },
  ];

  return {
    id: 'drain',
    resources,
    definition: {
      handler: handlerExport('drain'),
      description: 'Drains ECS container instances before their Auto Scaling group terminates them; completes the lifecycle hook once every task is STOPPED',
      timeout: DRAIN_FUNCTION_TIMEOUT_SECONDS,
      memorySize: 256,
      environment: { DRAIN_CONFIG: JSON.stringify(settingsFromConfig(config)) },
      events: [
        ...(patterns.lifecycle ? [rule(patterns.lifecycle)] : []),
        rule(patterns.taskStopped),
        rule(patterns.containerInstance),
        ...(patterns.spot ? [rule(patterns.spot)] : []),
        // A tick retried later than the next tick is useless: EventBridge keeps it 2 minutes at most.
        { eventBridge: { schedule: drain.reconcileSchedule, deadLetterQueueArn, retryPolicy: { maximumEventAge: 120, maximumRetryAttempts: 2 } } },
      ],
    },
    statements,
  };
}
