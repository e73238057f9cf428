import type { Job } from '../../functions/shared/config.ts';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { ConfigError } from '../../functions/shared/config.ts';
import { scheduleNameIssues, settingsFromConfig } from '../../functions/task-lock/settings.ts';
import { arn, inClusters, jobPassRoles, roleProperties, tableReadWrite, type Statement } from '../iam.ts';
import { dlqLogicalId, lambdaLogicalId, type Resources } from '../resources.ts';
import { occurrenceRetryPolicy, ruleSchedule, schedulerSchedule } from '../schedules.ts';
import { handlerExport, logicalIdStem } from './ids.ts';
import { ruleRetryPolicy, type DeployContext, type FunctionSpec } from './types.ts';

/**
 * passRoles only shapes the role (passTaskRoles below); the function never reads it, and two
 * role ARNs per job would cut the jobs that fit Lambda's 4 KB environment from 13 to 9.
 */
export function withoutPassRoles<S extends { jobs: Job[] }>(settings: S): S {
  return { ...settings, jobs: settings.jobs.map(({ passRoles: _, ...job }) => job as Job) };
}

/** task-lock: one schedule per job, plus the STOPPED events of the tasks it started. */
export function taskLockFunction({ config, stage }: DeployContext): FunctionSpec {
  const { jobs } = config;
  const nameIssues = scheduleNameIssues(config, stage);
  if (nameIssues.length) throw new ConfigError(`Invalid config:\n  ${nameIssues.join('\n  ')}`, nameIssues);
  const clusterNames = config.clusters.map((c) => c.name);
  const settings = withoutPassRoles(settingsFromConfig(config, { stage }));
  const { scheduleNames } = settings;
  const usesScheduler = jobs.some((job) => job.schedule.method === 'scheduler');

  const schedulerRole = `${logicalIdStem('task-lock')}SchedulerRole`;
  const resources: Resources = usesScheduler
    ? {
        [schedulerRole]: {
          Type: 'AWS::IAM::Role',
          Properties: {
            ...roleProperties(config.stack),
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Service: 'scheduler.amazonaws.com' },
                  Action: 'sts:AssumeRole',
                  Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
                },
              ],
            },
            Policies: [
              {
                PolicyName: 'invoke-task-lock',
                PolicyDocument: {
                  Version: '2012-10-17',
                  Statement: [
                    { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [lambdaLogicalId('task-lock'), 'Arn'] } },
                    // Scheduler sends an occurrence it could not deliver to the DLQ with this role.
                    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlqLogicalId('task-lock'), 'Arn'] } },
                  ],
                },
              },
            ],
          },
        },
      }
    : {};

  // Plain CloudFormation rather than osls `schedule` events, which have no DLQ and no retry policy (infra/schedules.ts).
  jobs.forEach((job, i) => {
    const common = { id: 'task-lock' as const, index: i + 1, expression: job.schedule.expression, retry: occurrenceRetryPolicy(job.schedule.expression) };
    const description = `ecs-caretaker task-lock: ${job.name}`;
    Object.assign(
      resources,
      job.schedule.method === 'scheduler'
        ? schedulerSchedule({
            ...common,
            name: scheduleNames[job.name]!,
            timezone: job.schedule.timezone,
            roleArn: { 'Fn::GetAtt': [schedulerRole, 'Arn'] },
            description,
            // Scheduler fills these context attributes in on every invocation (Scheduler user guide, "Adding context attributes").
            input: {
              job: job.name,
              scheduledTime: '<aws.scheduler.scheduled-time>',
              scheduleArn: '<aws.scheduler.schedule-arn>',
              executionId: '<aws.scheduler.execution-id>',
              attemptNumber: '<aws.scheduler.attempt-number>',
            },
          })
        : ruleSchedule({ ...common, name: scheduleNames[job.name], description }),
    );
  });

  return {
    id: 'task-lock',
    resources,
    definition: {
      handler: handlerExport('task-lock'),
      description: 'Runs each scheduled ECS task exactly once per occurrence, never overlapping its previous run',
      timeout: 30,
      memorySize: 256,
      environment: { TASK_LOCK_CONFIG: JSON.stringify(settings) },
      events: [
        ...(jobs.length
          ? [
              {
                eventBridge: {
                  pattern: taskStoppedPattern,
                  deadLetterQueueArn: { 'Fn::GetAtt': [dlqLogicalId('task-lock'), 'Arn'] },
                  retryPolicy: ruleRetryPolicy,
                },
              },
            ]
          : []),
      ],
    },
    statements: [
      tableReadWrite(),
      ...(jobs.length
        ? [
            {
              Sid: 'RunJobs',
              Effect: 'Allow' as const,
              Action: 'ecs:RunTask',
              Resource: [...new Set(jobs.map((j) => j.taskDefinition))].map(arn.taskDefinition),
              Condition: inClusters([...new Set(jobs.map((j) => j.cluster))]),
            },
            {
              // ecs:CreateAction: tags only as part of RunTask, never on an existing task (Service Authorization Reference, Amazon ECS, TagResource).
              Sid: 'TagJobTasks',
              Effect: 'Allow' as const,
              Action: 'ecs:TagResource',
              Resource: clusterNames.map(arn.tasksOf),
              Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
            },
            {
              Sid: 'DescribeJobTasks',
              Effect: 'Allow' as const,
              Action: 'ecs:DescribeTasks',
              Resource: clusterNames.map(arn.tasksOf),
              Condition: inClusters(clusterNames),
            },
            // onOverrun stop-previous: only when a job asks for it, and only tasks of the configured clusters.
            ...(jobs.some((j) => j.onOverrun === 'stop-previous')
              ? [
                  {
                    Sid: 'StopOverrunJobTasks',
                    Effect: 'Allow' as const,
                    Action: 'ecs:StopTask',
                    Resource: clusterNames.map(arn.tasksOf),
                    Condition: inClusters(clusterNames),
                  },
                ]
              : []),
            // Lists the job's live tasks before each start (and finds the task of an invocation that died
            // after RunTask). Read-only; "*" with the ecs:cluster condition, as for drain.
            { Sid: 'ListJobTasks', Effect: 'Allow' as const, Action: 'ecs:ListTasks', Resource: '*', Condition: inClusters(clusterNames) },
          ]
        : []),
      ...passTaskRoles(config),
    ],
  };
}

/**
 * RunTask passes the task definition's task and execution roles to ECS, so
 * the function needs PassRole on those roles, and on no other: PassRole on
 * `role/*` would let it start a container under any task role of the account.
 * `iam:PassedToService` is the condition key the Service Authorization
 * Reference lists for iam:PassRole (AWS Identity and Access Management,
 * "Condition keys"); ECS receives task roles as `ecs-tasks.amazonaws.com`
 * (ECS developer guide, "Task IAM role"). Jobs whose task definition has no
 * role need none, and without any listed role the statement is left out.
 */
function passTaskRoles(config: DeployContext['config']): Statement[] {
  const roles = jobPassRoles(config);
  if (roles.length === 0) return [];
  return [
    {
      Sid: 'PassJobRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: roles,
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
  ];
}
