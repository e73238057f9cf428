import { createHash } from 'node:crypto';
import { ConfigError, type CaretakerConfig } from '../../functions/shared/config.ts';
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

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/** Seconds between ticks for a rate(...) schedule; undefined for cron(...), whose spacing varies. */
export function ratePeriodSeconds(expression: string): number | undefined {
  const match = RATE.exec(expression);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : undefined;
}

/**
 * Values that are each valid but do not work together. A heartbeat goes out at
 * the first tick after a third of HeartbeatTimeout, so the tick period must
 * stay below the remaining two thirds or the hook may time out between ticks.
 */
export function checkDrainConfig(config: CaretakerConfig): void {
  const issues: string[] = [];
  const period = ratePeriodSeconds(config.drain.reconcileSchedule);
  const { heartbeatTimeoutSeconds } = config.drain;
  if (period !== undefined && period >= (heartbeatTimeoutSeconds * 2) / 3) {
    issues.push(
      `config.drain.heartbeatTimeoutSeconds: ${heartbeatTimeoutSeconds} s is too short for a reconcile tick every ${period} s (reconcileSchedule); it must be above 1.5 × the tick period, i.e. at least ${Math.floor(period * 1.5) + 1} s`,
    );
  }
  if (issues.length) throw new ConfigError(`Invalid config:\n  ${issues.join('\n  ')}`, issues);
}

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
  checkDrainConfig(config);
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
  ];

  return {
    id: 'drain',
    resources,
    definition: {
      handler: handlerExport('drain'),
      description: 'Drains ECS container instances before their Auto Scaling group terminates them; completes the lifecycle hook once every task is STOPPED',
      timeout: 60,
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
