import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { repoRoot } from '../support/fixtures.ts';
import { conditionKeyProblems, wildcardGrants } from '../support/iam-check.ts';
import { embeddedSettings, packageService, resourcesOfType, type Template } from '../support/package.ts';

let template: Template;
let packageDir: string;
beforeAll(async () => {
  ({ template, dir: packageDir } = await packageService(join(repoRoot, 'test/fixtures/caretaker.config.ts')));
}, 600_000); // osls package shares a starved core with the rest of the suite, one packaging at a time

const statementsOf = (roleId: string): any[] => template.Resources[roleId]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);

describe('packaged CloudFormation template', () => {
  it('gives every function its own role', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id)).toContain('TaskLockLambdaFunction');
    const roles = functions.map(([, fn]) => fn.Properties.Role['Fn::GetAtt'][0]);
    expect(new Set(roles).size).toBe(functions.length);
    for (const role of roles) expect(template.Resources[role]!.Type).toBe('AWS::IAM::Role');
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('grants no write or permissions-management action on "*" or on every resource of a type', () => {
    expect(wildcardGrants(template)).toEqual([]);
  });

  it('conditions each action only on keys the Service Authorization Reference lists for it', () => {
    expect(conditionKeyProblems(template)).toEqual([]);
  });

  it('scopes task-lock ECS actions to the configured clusters and task definitions', () => {
    const statements = statementsOf('TaskLockRole');
    const runTask = statements.find((s) => s.Action === 'ecs:RunTask');
    expect(runTask.Condition).toEqual({
      ArnEquals: {
        'ecs:cluster': expect.arrayContaining([
          { 'Fn::Sub': expect.stringContaining(':cluster/batch') },
          { 'Fn::Sub': expect.stringContaining(':cluster/prod') },
        ]),
      },
    });
    expect(runTask.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/report:*' },
      'arn:aws:ecs:eu-west-1:123456789012:task-definition/legacy:*',
    ]);
    const describe = statements.find((s) => s.Action === 'ecs:DescribeTasks');
    expect(describe.Condition.ArnEquals['ecs:cluster']).toHaveLength(2);
    // Neither job lists a role to pass, so the function may pass none (test/infra/cfn-package.test.ts has jobs that do).
    expect(statements.filter((s) => s.Action === 'iam:PassRole')).toEqual([]);
    // nightly's onOverrun stop-previous: StopTask, on the configured clusters' tasks only.
    expect(statements.find((s) => s.Action === 'ecs:StopTask').Condition.ArnEquals['ecs:cluster']).toHaveLength(2);
  });

  it('defines one table: key `id`, TTL on `expiration`, on demand', () => {
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('sends every function’s failed async events to its own DLQ, which has an alarm', () => {
    for (const [id] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const config = template.Resources[`${id}EventInvokeConfig`];
      expect(config?.Type, id).toBe('AWS::Lambda::EventInvokeConfig');
      const queue = config!.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
      expect(template.Resources[queue]!.Type).toBe('AWS::SQS::Queue');
      const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.Dimensions?.[0]?.Value['Fn::GetAtt']?.[0] === queue);
      expect(alarm, `alarm on ${queue}`).toBeDefined();
      expect(alarm![1].Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops-alerts']);
    }
  });

  it('gives EventBridge rule targets a dead-letter queue and a retry policy', () => {
    const patternRules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
    expect(patternRules.length).toBeGreaterThan(0);
    for (const [, rule] of patternRules) {
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toBeDefined();
      expect(rule.Properties.Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
    }
  });

  it('subscribes task-lock to exactly the pattern in functions/task-lock/events.ts', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties.EventPattern && JSON.stringify(r.Properties.Targets).includes('TaskLockLambdaFunction'),
    );
    expect(rules.map(([, r]) => r.Properties.EventPattern)).toEqual([taskStoppedPattern]);
  });

  it('creates one schedule per job, in the configured form', () => {
    const schedules = resourcesOfType(template, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    const [, nightly] = schedules[0]!;
    expect(nightly.Properties).toMatchObject({
      Name: 'cc-test-test-nightly',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
    });
    expect(JSON.parse(nightly.Properties.Target.Input)).toEqual({
      job: 'nightly',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      scheduleArn: '<aws.scheduler.schedule-arn>',
      executionId: '<aws.scheduler.execution-id>',
      attemptNumber: '<aws.scheduler.attempt-number>',
    });
    expect(nightly.Properties.Target.RoleArn).toEqual({ 'Fn::GetAtt': ['TaskLockSchedulerRole', 'Arn'] });

    const legacy = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties.ScheduleExpression && r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === 'TaskLockLambdaFunction',
    );
    expect(legacy.map(([, r]) => [r.Properties.Name, r.Properties.ScheduleExpression, r.Properties.Targets[0].Input])).toEqual([
      ['legacy-every-15', 'rate(15 minutes)', undefined],
    ]);
  });

  it('hands task-lock its jobs and their schedule names, in its bundle', () => {
    const env = template.Resources.TaskLockLambdaFunction!.Properties.Environment.Variables;
    expect(env.TASK_LOCK_CONFIG).toBeUndefined();
    const cfg = embeddedSettings(packageDir, 'taskLock.zip', 'functions/task-lock/handler.mjs').TASK_LOCK_CONFIG;
    expect(cfg.scheduleNames).toEqual({ nightly: 'cc-test-test-nightly', legacy: 'legacy-every-15' });
    expect(cfg.jobs.map((j: { name: string }) => j.name)).toEqual(['nightly', 'legacy']);
    // The stack name: part of every task's startedBy, clientToken and tags.
    expect(cfg.deployment).toBe('cc-test-test');
    // CloudFormation names the table after the stack; the function learns the name from it.
    expect(env.TABLE_NAME).toEqual({ Ref: 'CaretakerTable' });
  });
});

describe('npm run package with a bad configuration', () => {
  it('fails and names the field', async () => {
    const run = promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'bad', '--package', '/tmp/cc-bad-package'], {
      cwd: repoRoot,
      env: { ...process.env, CARETAKER_CONFIG: join(repoRoot, 'test/fixtures/bad.config.ts') },
    });
    await expect(run).rejects.toMatchObject({ stdout: expect.stringContaining('config.jobs[0].maxRunSeconds: Too small: expected number to be >=60') });
  }, 60_000);
});
