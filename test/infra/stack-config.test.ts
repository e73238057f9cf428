/** The `stack` section and the IAM-related fields of the config: defaults, and errors that name the field. */
import { describe, expect, it } from 'vitest';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { checkDeployable } from '../../infra/config.ts';
import { taskLockFunction } from '../../infra/functions/task-lock.ts';
import { deployContext } from '../../infra/functions/types.ts';
import { jobPassRoles } from '../../infra/iam.ts';
import { TABLE_LOGICAL_ID, tableResources } from '../../infra/resources.ts';

const base = { clusters: [{ name: 'prod', asgs: ['prod-asg'] }] };
const parse = (extra: Partial<CaretakerConfigInput>) => parseConfig({ ...base, ...extra });
const job = (extra: Record<string, unknown>) => ({
  name: 'report',
  cluster: 'prod',
  taskDefinition: 'report',
  schedule: { expression: 'rate(1 hour)' },
  maxRunSeconds: 600,
  ...extra,
});

describe('config.stack', () => {
  it('defaults to 30 days of logs, point-in-time recovery, the root role path, no boundary and no tags', () => {
    expect(parse({}).stack).toEqual({ rolePath: '/', tags: {}, logRetentionDays: 30, pointInTimeRecovery: true });
    expect(parse({}).cleanup.instanceTag).toEqual({ key: 'ecs-caretaker:cleanup', value: 'true' });
  });

  it.each([
    [{ logRetentionDays: 31 }, /config\.stack\.logRetentionDays: expected one of 1, 3, 5, 7, 14, 30,/],
    [{ rolePath: 'platform' }, /config\.stack\.rolePath: expected "\/" or a path/],
    [{ rolePath: '/platform' }, /config\.stack\.rolePath/],
    [{ permissionsBoundary: 'arn:aws:iam::123456789012:role/boundary' }, /config\.stack\.permissionsBoundary: expected an IAM policy ARN/],
    [{ tags: { 'aws:cloudformation:stack-name': 'x' } }, /config\.stack\.tags\.aws:cloudformation:stack-name: tag keys starting with "aws:" are reserved/],
    [{ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, /config\.stack\.tags: at most 50 tags/],
    [{ pointInTimeRecovery: 'yes' }, /config\.stack\.pointInTimeRecovery/],
    [{ boundary: 'x' }, /config\.stack: Unrecognized key: "boundary"/],
    [{ tableName: 'my table' }, /config\.stack\.tableName: expected 3-255 letters/],
  ])('refuses %j and names the field', (stack, message) => {
    expect(() => parse({ stack } as never)).toThrow(message);
  });

  it('accepts an AWS managed policy as boundary and a nested role path', () => {
    const { stack } = parse({ stack: { permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess', rolePath: '/platform/ecs/' } });
    expect(stack).toMatchObject({ permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess', rolePath: '/platform/ecs/' });
  });
});

describe('jobs[].passRoles', () => {
  it('refuses what is neither a role name nor a role ARN, and names the job', () => {
    expect(() => parse({ jobs: [job({ passRoles: ['arn:aws:iam::123456789012:user/alice'] })] })).toThrow(
      /config\.jobs\[0\]\.passRoles\[0\]: expected an IAM role name or role ARN/,
    );
    expect(() => parse({ jobs: [job({ passRoles: ['role/*'] })] })).toThrow(/config\.jobs\[0\]\.passRoles\[0\]/);
  });

  it('collects the listed roles and the roles in RunTask overrides, once each, names as ARNs of this account', () => {
    const config = parse({
      jobs: [
        job({ passRoles: ['report-task', 'arn:aws-us-gov:iam::123456789012:role/svc/exec'] }),
        job({ name: 'b', passRoles: ['report-task'], overrides: { taskRoleArn: 'arn:aws:iam::123456789012:role/b', executionRoleArn: 42 } }),
        job({ name: 'c' }),
      ],
    });
    expect(jobPassRoles(config)).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/report-task' },
      'arn:aws-us-gov:iam::123456789012:role/svc/exec',
      'arn:aws:iam::123456789012:role/b',
    ]);
    expect(jobPassRoles(parse({ jobs: [job({})] }))).toEqual([]);
  });
});

describe('state table name', () => {
  it('is left to CloudFormation, unless config.stack.tableName keeps an earlier deployment’s table', () => {
    expect(tableResources()[TABLE_LOGICAL_ID]!.Properties!.TableName).toBeUndefined();
    const kept = parse({ stack: { tableName: 'ecs-caretaker-prod-state' } }).stack;
    expect(tableResources(kept)[TABLE_LOGICAL_ID]!.Properties).toMatchObject({ TableName: 'ecs-caretaker-prod-state', DeletionProtectionEnabled: true });
  });
});

describe('passRoles and the 4 KB environment', () => {
  const roles = ['arn:aws:iam::123456789012:role/report-task', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole'];
  const jobs = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      job({ name: `job-${i}`, taskDefinition: `report-${i}`, schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Paris' }, passRoles: roles }),
    );

  it('stay out of the function’s environment, so 13 jobs with two roles each still fit', () => {
    const config = checkDeployable(parse({ jobs: jobs(13) }));
    const spec = taskLockFunction(deployContext(config, 'prod'));
    const env = JSON.parse(spec.definition.environment!.TASK_LOCK_CONFIG as string);
    expect(env.jobs).toHaveLength(13);
    expect(env.jobs[0].passRoles).toBeUndefined();
    // The role still carries them.
    expect(spec.statements.find((s) => s.Sid === 'PassJobRoles')!.Resource).toEqual(roles);
  });

  it('takes more jobs than the 4 KB environment held: the settings ride in the bundle (infra/embedded-settings.ts)', () => {
    const config = checkDeployable(parse({ jobs: jobs(40) }));
    const spec = taskLockFunction(deployContext(config, 'prod'));
    expect(Buffer.byteLength(spec.definition.environment!.TASK_LOCK_CONFIG as string)).toBeGreaterThan(4096);
  });
});
