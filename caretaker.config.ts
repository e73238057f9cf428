/**
 * ecs-caretaker configuration: the one file you edit.
 *
 * It is validated when `npx osls package` / `npx osls deploy` loads
 * serverless.ts; a wrong value stops the build with a message naming the
 * field, e.g. `config.jobs[0].maxRunSeconds: Too small: expected number to be >=60`.
 * Stage and region come from the usual osls options (`--stage`, `--region`).
 */
import { defineConfig } from './functions/shared/config.ts';

export default defineConfig({
  // Prefix of every resource name (rules, table, queues, roles).
  service: 'ecs-caretaker',

  // The ECS clusters ecs-caretaker looks after, and the Auto Scaling groups
  // that provide their EC2 capacity. IAM policies are scoped to these names.
  clusters: [{ name: 'demo', asgs: ['demo-asg'] }],

  // Where alerts go. Without topicArn, ecs-caretaker only logs and publishes metrics.
  alerts: {
    // topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts',
    minSeverity: 'high', // info | low | medium | high | critical
    windowMinutes: 10, // one alert per (cluster, service, category) per window, then a summary
  },

  // Scheduled ECS tasks that must run exactly once per occurrence (task-lock).
  jobs: [
    {
      name: 'nightly-report',
      cluster: 'demo',
      taskDefinition: 'nightly-report', // family, family:revision or ARN
      schedule: {
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Europe/Paris',
        method: 'scheduler', // 'scheduler' (EventBridge Scheduler, time zones) or 'rule' (EventBridge rule, UTC)
      },
      launchType: 'EC2', // or capacityProviderStrategy: [{ capacityProvider: 'my-cp', weight: 1 }]
      // networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123abcd'], securityGroups: ['sg-0123abcd'] } },
      // overrides: { containerOverrides: [{ name: 'app', command: ['report', '--nightly'] }] },
      overlap: 'skip', // 'skip': never start while ECS still runs a task of this job (PENDING included); 'allow'
      maxRunSeconds: 3600, // a run older than this (PENDING time included) has overrun
      onOverrun: 'skip', // what the next occurrence does to an overrun: 'skip' (alert only), 'stop-previous' (StopTask, then start) or 'allow'
      // maxDelaySeconds: 3600, // refuse deliveries later than this; default one schedule period, at most 1 h
      // The task definition's task and execution roles (names or ARNs): the only roles task-lock may pass to ECS.
      // passRoles: ['nightly-report-task', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole'],
    },
  ],

  // cleanup runs its SSM document only on instances that carry this tag; set it on the
  // container instances (an ASG tag with PropagateAtLaunch, or the launch template).
  // cleanup: { instanceTag: { key: 'ecs-caretaker:cleanup', value: 'true' } },

  // How the stack is deployed, for accounts whose service control policies ask for it.
  // stack: {
  //   permissionsBoundary: 'arn:aws:iam::123456789012:policy/workload-boundary',
  //   rolePath: '/ecs-caretaker/',
  //   tags: { CostCenter: 'ops', Owner: 'sre' }, // on every resource that can carry tags
  //   logRetentionDays: 30, // functions' logs and Run Command output
  //   pointInTimeRecovery: true, // of the state table
  // },
});
