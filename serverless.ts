/**
 * osls (Serverless Framework v3, MIT fork) service definition.
 * Everything here is derived from caretaker.config.ts, validated on load:
 * a wrong value stops `npm run package` with a message that names the field.
 */
import { loadConfig, scheduleNameFor } from './infra/config.ts';
import { arn, functionRole, inClusters, tableReadWrite, type Statement } from './infra/iam.ts';
import { esbuildOptions } from './infra/esbuild.ts';
import { dlqLogicalId, dlqResources, roleLogicalId, tableResources, type Resources } from './infra/resources.ts';
import { taskStoppedPattern } from './functions/task-lock/events.ts';

const config = loadConfig();

// osls passes --stage/-s to the CLI, not to this module; read it the same way it does.
function option(long: string, short: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === long || a === short) return argv[i + 1];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
  }
  return undefined;
}
const stage = option('--stage', '-s') ?? 'dev';
const region = option('--region', '-r') ?? process.env.AWS_REGION ?? 'eu-west-1';
const prefix = `${config.service}-${stage}`;
const tableName = `${prefix}-state`;
const clusterNames = config.clusters.map((c) => c.name);

const resources: Resources = { ...tableResources(tableName) };
const functions: Record<string, unknown> = {};

/** Adds a function with its own role, DLQ and DLQ alarm. */
function addFunction(key: string, definition: Record<string, unknown> & { environment?: Record<string, unknown> }, statements: Statement[], extraTrust: string[] = []) {
  const functionName = `${prefix}-${key}`;
  Object.assign(resources, functionRole(key, functionName, statements, extraTrust), dlqResources({ functionKey: key, queueName: `${functionName}-dlq`, alarmTopicArn: config.alerts.topicArn }));
  functions[key] = {
    name: functionName,
    role: roleLogicalId(key),
    ...definition,
    environment: { TABLE_NAME: tableName, POWERTOOLS_SERVICE_NAME: key, ...definition.environment },
  };
}

const dlqArn = (key: string) => ({ 'Fn::GetAtt': [dlqLogicalId(key), 'Arn'] });
// EventBridge retries a failed delivery to the target for up to 24 h by default; one hour is plenty for a Lambda target.
const ruleRetry = { maximumEventAge: 3600, maximumRetryAttempts: 10 };

// ---- task-lock -----------------------------------------------------------
const scheduleNames = Object.fromEntries(config.jobs.map((job) => [job.name, scheduleNameFor(config, stage, job)]));
const usesScheduler = config.jobs.some((job) => job.schedule.method === 'scheduler');
if (usesScheduler) {
  resources.TaskLockSchedulerRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
      },
      Policies: [
        {
          PolicyName: 'invoke-task-lock',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['TaskLockLambdaFunction', 'Arn'] } }],
          },
        },
      ],
    },
  };
}

addFunction(
  'taskLock',
  {
    handler: 'functions/task-lock/handler.handler',
    description: 'Runs each scheduled ECS task exactly once per occurrence, never overlapping its previous run',
    timeout: 30,
    memorySize: 256,
    environment: {
      TASK_LOCK_CONFIG: JSON.stringify({ jobs: config.jobs, scheduleNames, lockRetentionHours: config.taskLock.lockRetentionHours }),
    },
    events: [
      ...config.jobs.map((job) =>
        job.schedule.method === 'scheduler'
          ? {
              schedule: {
                method: 'scheduler',
                name: scheduleNames[job.name],
                rate: [job.schedule.expression],
                timezone: job.schedule.timezone,
                roleArn: { 'Fn::GetAtt': ['TaskLockSchedulerRole', 'Arn'] },
                description: `ecs-caretaker task-lock: ${job.name}`,
                // Scheduler fills these context attributes in on every invocation (Scheduler user guide, "Adding context attributes").
                input: {
                  job: job.name,
                  scheduledTime: '<aws.scheduler.scheduled-time>',
                  scheduleArn: '<aws.scheduler.schedule-arn>',
                  executionId: '<aws.scheduler.execution-id>',
                  attemptNumber: '<aws.scheduler.attempt-number>',
                },
              },
            }
          : { schedule: { name: scheduleNames[job.name], rate: [job.schedule.expression], description: `ecs-caretaker task-lock: ${job.name}` } },
      ),
      ...(config.jobs.length ? [{ eventBridge: { pattern: taskStoppedPattern, deadLetterQueueArn: dlqArn('taskLock'), retryPolicy: ruleRetry } }] : []),
    ],
  },
  [
    tableReadWrite(),
    ...(config.jobs.length
      ? [
          {
            Sid: 'RunJobs',
            Effect: 'Allow' as const,
            Action: 'ecs:RunTask',
            Resource: [...new Set(config.jobs.map((j) => j.taskDefinition))].map(arn.taskDefinition),
            Condition: inClusters([...new Set(config.jobs.map((j) => j.cluster))]),
          },
          { Sid: 'TagJobTasks', Effect: 'Allow' as const, Action: 'ecs:TagResource', Resource: clusterNames.map(arn.tasksOf), Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } } },
          { Sid: 'DescribeJobTasks', Effect: 'Allow' as const, Action: 'ecs:DescribeTasks', Resource: clusterNames.map(arn.tasksOf), Condition: inClusters(clusterNames) },
          {
            // RunTask passes the task definition's task and execution roles to ECS.
            Sid: 'PassTaskRoles',
            Effect: 'Allow' as const,
            Action: 'iam:PassRole',
            Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*' },
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          },
        ]
      : []),
  ],
);

const serverlessConfiguration = {
  service: config.service,
  frameworkVersion: '3 || 4',
  configValidationMode: 'error',
  plugins: ['serverless-esbuild'],
  provider: {
    name: 'aws',
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    stage,
    region,
    logRetentionInDays: 30,
    tracing: { lambda: true },
    environment: {
      POWERTOOLS_METRICS_NAMESPACE: 'EcsCaretaker',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    },
  },
  package: { individually: true },
  custom: {
    esbuild: {
      ...esbuildOptions,
      outputFileExtension: '.mjs',
      // The SDK v3 clients are bundled: the pinned version is the tested one, and `npm run bench` measures the cold start.
      exclude: [],
    },
  },
  functions,
  resources: { Resources: resources },
};

export default serverlessConfiguration;
