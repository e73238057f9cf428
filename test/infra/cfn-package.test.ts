/**
 * `npm run package:cfn` on a landing-zone configuration: the osls template and
 * the plain CloudFormation template derived from it, as a platform team would
 * review them (IAM scope, boundary, path, tags, table, log retention).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaretakerConfig } from '../../functions/shared/config.ts';
import { loadConfig } from '../../infra/config.ts';
import { TAGGABLE_TYPES, UNTAGGABLE_TYPES } from '../../infra/tags.ts';
import { writePlainPackage } from '../../scripts/package-cfn.ts';
import { repoRoot } from '../support/fixtures.ts';
import { conditionKeyProblems, wildcardFindings, wildcardGrants, type Statement } from '../support/iam-check.ts';
import { embeddedSettings, packageService, resourcesOfType, type Template } from '../support/package.ts';

const FIXTURE = join(repoRoot, 'test/fixtures/locked-down.config.ts');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:platform-alerts';
const BOUNDARY = 'arn:aws:iam::123456789012:policy/platform/workload-boundary';
const TAGS = [
  { Key: 'CostCenter', Value: 'ops-42' },
  { Key: 'Owner', Value: 'sre-platform' },
];

let config: CaretakerConfig;
let osls: Template;
let packagedDir: string;
let plain: Template & { Parameters: Record<string, any>; Conditions: Record<string, unknown>; Outputs: Record<string, any> };
let outDir: string;
let bucketDir: string;
let fromBucket: Template & { Parameters: Record<string, any> };
beforeAll(async () => {
  config = loadConfig(FIXTURE);
  const packaged = await packageService(FIXTURE, 'prod');
  osls = packaged.template;
  packagedDir = packaged.dir;
  outDir = mkdtempSync(join(tmpdir(), 'cc-cfn-'));
  writePlainPackage(packaged.dir, outDir, config, 'prod');
  plain = JSON.parse(readFileSync(join(outDir, 'template.json'), 'utf8'));
  bucketDir = mkdtempSync(join(tmpdir(), 'cc-cfn-s3-'));
  fromBucket = writePlainPackage(packaged.dir, bucketDir, config, 'prod', 'parameters') as typeof fromBucket;
}, 300_000); // osls package shares a starved core with the rest of the suite

const statementsOf = (template: Template, roleId: string): any[] =>
  template.Resources[roleId]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);

describe('plain CloudFormation template (npm run package:cfn)', () => {
  it('refers to nothing osls-specific: no deployment bucket, no versions, no sls- exports', () => {
    const text = JSON.stringify(plain);
    expect(text).not.toMatch(/ServerlessDeploymentBucket|serverless|"sls-/i);
    expect(resourcesOfType(plain, 'AWS::Lambda::Version')).toEqual([]);
    expect(resourcesOfType(plain, 'AWS::S3::Bucket')).toEqual([]);
    for (const output of Object.values(plain.Outputs)) expect(output.Export).toBeUndefined();
    // The osls template had all of them: the transform is what removed them.
    expect(JSON.stringify(osls)).toMatch(/ServerlessDeploymentBucket/);
  });

  it("points each function's Code at its zip beside the template, for `aws cloudformation package`", () => {
    const functions = resourcesOfType(plain, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      ['AuditLambdaFunction', 'CleanupLambdaFunction', 'DrainLambdaFunction', 'StoppedWatchLambdaFunction', 'TaskLockLambdaFunction'].sort(),
    );
    for (const [id, fn] of functions) {
      expect(fn.Properties.Code, id).toMatch(/^code\/[A-Za-z]+\.zip$/);
      const zip = readFileSync(join(outDir, fn.Properties.Code));
      expect(zip.subarray(0, 4).toString('hex'), `${id}: a zip file`).toBe('504b0304');
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('with --artifact-parameters, reads the code from ArtifactBucket/ArtifactPrefix under content-named keys, and differs in nothing else', () => {
    expect(fromBucket.Parameters.ArtifactBucket).toMatchObject({ Type: 'String' });
    expect(fromBucket.Parameters.ArtifactPrefix).toMatchObject({ Type: 'String', Default: '' });
    expect(plain.Parameters.ArtifactBucket).toBeUndefined();
    for (const [id, fn] of resourcesOfType(fromBucket, 'AWS::Lambda::Function')) {
      const { S3Bucket, S3Key } = fn.Properties.Code;
      expect(S3Bucket, id).toEqual({ Ref: 'ArtifactBucket' });
      const name = (S3Key['Fn::Sub'] as string).replace('${ArtifactPrefix}', '');
      expect(name, id).toMatch(/^[A-Za-z]+-[0-9a-f]{16}\.zip$/);
      // The file to upload is there, byte for byte the zip of the other mode.
      expect(readFileSync(join(bucketDir, 'code', name)).equals(readFileSync(join(outDir, plain.Resources[id]!.Properties.Code))), id).toBe(true);
    }
    const withoutCode = (t: Template & { Parameters: Record<string, unknown> }) => {
      const copy = JSON.parse(JSON.stringify(t));
      for (const r of Object.values(copy.Resources) as any[]) if (r.Type === 'AWS::Lambda::Function') delete r.Properties.Code;
      delete copy.Parameters.ArtifactBucket;
      delete copy.Parameters.ArtifactPrefix;
      return copy;
    };
    expect(withoutCode(fromBucket)).toEqual(withoutCode(plain));
  });

  it('has every Ref, GetAtt and DependsOn resolve inside the template', () => {
    const ids = new Set([...Object.keys(plain.Resources), ...Object.keys(plain.Parameters)]);
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'Ref' && typeof x === 'string') refs.push(x);
          else if (k === 'Fn::GetAtt') refs.push((x as string[])[0]!);
          else if (k === 'DependsOn') refs.push(...(Array.isArray(x) ? x : [x]));
          else walk(x);
        }
      }
    };
    walk(plain.Resources);
    walk(plain.Outputs);
    expect(refs.filter((r) => !r.startsWith('AWS::') && !ids.has(r))).toEqual([]);
  });

  it('turns the alert topic into a parameter everywhere, environment JSON included', () => {
    expect(plain.Parameters.AlertTopicArn).toMatchObject({ Type: 'String', Default: TOPIC });
    expect(JSON.stringify(plain.Resources)).not.toContain(TOPIC);
    // The bundle carries the settings with the topic of the config; the environment, which takes
    // precedence, carries them with the parameter, and with the default they are the bundle's exactly.
    expect(osls.Resources.StoppedWatchLambdaFunction!.Properties.Environment.Variables.STOPPED_WATCH_CONFIG).toBeUndefined();
    const env = plain.Resources.StoppedWatchLambdaFunction!.Properties.Environment.Variables.STOPPED_WATCH_CONFIG['Fn::Sub'] as string;
    const resolved = env.replaceAll('${AlertTopicArn}', TOPIC).replaceAll('${!', '${');
    const bundled = embeddedSettings(packagedDir, 'stoppedWatch.zip', 'functions/stopped-watch/handler.mjs').STOPPED_WATCH_CONFIG;
    expect(JSON.parse(resolved)).toEqual(bundled);
    const publish = statementsOf(plain, 'StoppedWatchRole').find((s) => s.Sid === 'PublishAlerts');
    expect(publish.Resource).toEqual({ Ref: 'AlertTopicArn' });
  });

  it('takes the permissions boundary and the log retention as parameters, defaulting to the config', () => {
    expect(plain.Parameters.PermissionsBoundaryArn.Default).toBe(BOUNDARY);
    expect(plain.Parameters.LogRetentionInDays).toMatchObject({ Type: 'Number', Default: 90 });
    expect(plain.Parameters.LogRetentionInDays.AllowedValues).toContain(3653);
    const roles = resourcesOfType(plain, 'AWS::IAM::Role');
    expect(roles.length).toBe(6); // five functions and the Scheduler's
    for (const [id, role] of roles) {
      expect(role.Properties.PermissionsBoundary, id).toEqual({
        'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }],
      });
      expect(role.Properties.Path, id).toBe('/platform/ecs-caretaker/');
    }
    const groups = resourcesOfType(plain, 'AWS::Logs::LogGroup');
    expect(groups.map(([, g]) => g.Properties.LogGroupName)).toContain('/aws/ssm/cc-locked-prod-docker-cleanup');
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toEqual({ Ref: 'LogRetentionInDays' });
  });

  it('tags every resource that can carry tags, the ones osls adds included', () => {
    const types = new Set(Object.values(plain.Resources).map((r) => r.Type));
    // A new resource type must be placed in infra/tags.ts, taggable or not.
    expect([...types].filter((t) => !TAGGABLE_TYPES.has(t) && !UNTAGGABLE_TYPES.has(t))).toEqual([]);
    const taggable = Object.entries(plain.Resources).filter(([, r]) => TAGGABLE_TYPES.has(r.Type));
    expect(taggable.map(([, r]) => r.Type)).toEqual(expect.arrayContaining(['AWS::Events::Rule', 'AWS::Logs::LogGroup', 'AWS::Lambda::Function']));
    for (const [id, resource] of taggable) expect(resource.Properties.Tags, id).toEqual(expect.arrayContaining(TAGS));
  });

  it('grants nothing on "*" or type-wide ARNs, and conditions actions only on keys they support', () => {
    expect(wildcardGrants(plain)).toEqual([]);
    expect(conditionKeyProblems(plain)).toEqual([]);
    expect(conditionKeyProblems(osls)).toEqual([]);
  });
});

describe('IAM of the osls template, landing-zone configuration', () => {
  it('gives every role the configured path, permissions boundary and tags', () => {
    for (const [id, role] of resourcesOfType(osls, 'AWS::IAM::Role')) {
      expect(role.Properties).toMatchObject({ Path: '/platform/ecs-caretaker/', PermissionsBoundary: BOUNDARY });
      expect(role.Properties.Tags, id).toEqual(TAGS);
    }
    for (const [id, fn] of resourcesOfType(osls, 'AWS::Lambda::Function')) expect(fn.Properties.Tags, id).toEqual(expect.arrayContaining(TAGS));
  });

  it('lets task-lock pass exactly the configured job roles, once each, to ECS tasks only', () => {
    const passRole = statementsOf(osls, 'TaskLockRole').filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRole).toEqual([
      {
        Sid: 'PassJobRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/nightly-report-task' },
          'arn:aws:iam::123456789012:role/ecs/ecsTaskExecutionRole',
          // from the purge job's RunTask overrides
          'arn:aws:iam::123456789012:role/purge-override',
        ],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
  });

  it('lets cleanup run its one document on tagged instances only, although a cluster has no ASG', () => {
    const send = statementsOf(osls, 'CleanupRole').filter((s) => [s.Action].flat().includes('ssm:SendCommand'));
    expect(send.map((s) => [s.Resource, s.Condition])).toEqual([
      [{ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/cc-locked-prod-docker-cleanup' }, undefined],
      [
        { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*' },
        { StringEquals: { 'ssm:resourceTag/ecs-caretaker:cleanup': 'true' } },
      ],
    ]);
    expect(wildcardGrants(osls)).toEqual([]);
  });
});

describe('state table and logs', () => {
  it('lets CloudFormation name the table, protects it, and takes point-in-time recovery from the config', () => {
    const [[id, table]] = resourcesOfType(osls, 'AWS::DynamoDB::Table') as [[string, any]];
    expect(table.Properties.TableName).toBeUndefined();
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: false });
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    for (const [fn, resource] of resourcesOfType(osls, 'AWS::Lambda::Function')) {
      expect(resource.Properties.Environment.Variables.TABLE_NAME, fn).toEqual({ Ref: id });
    }
  });

  it('keeps the functions’ logs and the Run Command output for the configured days', () => {
    const groups = Object.fromEntries(resourcesOfType(osls, 'AWS::Logs::LogGroup').map(([, g]) => [g.Properties.LogGroupName, g.Properties.RetentionInDays]));
    expect(groups).toEqual({
      '/aws/lambda/cc-locked-prod-taskLock': 90,
      '/aws/lambda/cc-locked-prod-drain': 90,
      '/aws/lambda/cc-locked-prod-stoppedWatch': 90,
      '/aws/lambda/cc-locked-prod-cleanup': 90,
      '/aws/lambda/cc-locked-prod-audit': 90,
      '/aws/ssm/cc-locked-prod-docker-cleanup': 90,
    });
  });
});

/**
 * What CloudFormation calls to create, update and delete each resource type
 * the stack has, on the deployer's behalf (CloudFormation resource type
 * schemas, `handlers` permissions; Lambda also needs to pass the role and
 * read the code). A type the stack gains must be added here and to the policy.
 */
const DEPLOY_ACTIONS: Record<string, string[]> = {
  'AWS::IAM::Role': [
    'iam:CreateRole',
    'iam:DeleteRole',
    'iam:GetRole',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:TagRole',
    'iam:PutRolePermissionsBoundary',
  ],
  'AWS::Lambda::Function': [
    'lambda:CreateFunction',
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'lambda:DeleteFunction',
    'lambda:GetFunction',
    'lambda:TagResource',
    'iam:PassRole',
    's3:GetObject',
  ],
  'AWS::Lambda::Version': ['lambda:PublishVersion'],
  'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission'],
  'AWS::Lambda::EventInvokeConfig': ['lambda:PutFunctionEventInvokeConfig', 'lambda:UpdateFunctionEventInvokeConfig', 'lambda:DeleteFunctionEventInvokeConfig'],
  'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:DeleteLogGroup', 'logs:PutRetentionPolicy', 'logs:DescribeLogGroups', 'logs:TagResource'],
  'AWS::SQS::Queue': ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:TagQueue'],
  'AWS::SQS::QueuePolicy': ['sqs:SetQueueAttributes'],
  'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource'],
  'AWS::CloudWatch::Dashboard': ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards'],
  'AWS::DynamoDB::Table': [
    'dynamodb:CreateTable',
    'dynamodb:DescribeTable',
    'dynamodb:UpdateTable',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:UpdateContinuousBackups',
    'dynamodb:TagResource',
  ],
  'AWS::Events::Rule': ['events:PutRule', 'events:DeleteRule', 'events:DescribeRule', 'events:PutTargets', 'events:RemoveTargets', 'events:TagResource'],
  'AWS::Scheduler::Schedule': ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'iam:PassRole'],
  'AWS::SSM::Document': ['ssm:CreateDocument', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion', 'ssm:DeleteDocument', 'ssm:AddTagsToResource'],
  'AWS::AutoScaling::LifecycleHook': ['autoscaling:PutLifecycleHook', 'autoscaling:DeleteLifecycleHook', 'autoscaling:DescribeLifecycleHooks'],
  'AWS::SNS::Subscription': ['sns:Subscribe', 'sns:Unsubscribe'],
  'AWS::S3::Bucket': ['s3:CreateBucket', 's3:DeleteBucket', 's3:PutEncryptionConfiguration'],
  'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
};

describe('deployer policy (infra/deployer-policy.json)', () => {
  const policy = JSON.parse(readFileSync(join(repoRoot, 'infra/deployer-policy.json'), 'utf8')) as { Statement: Statement[] };
  const allowed = new Set(policy.Statement.flatMap((s) => [s.Action].flat()));
  // The README's placeholders, filled in as an operator would.
  const filled = JSON.parse(
    JSON.stringify(policy)
      .replaceAll('ROLE_PATH', 'platform/ecs-caretaker/')
      .replaceAll('ACCOUNT_ID', '123456789012')
      .replaceAll('REGION', 'eu-west-1')
      .replaceAll('STACK_NAME', 'cc-locked-prod')
      .replaceAll('PREFIX', 'cc-locked-prod')
      .replaceAll('ARTIFACT_BUCKET', 'platform-artifacts')
      .replaceAll('ARTIFACT_PREFIX', 'ecs-caretaker')
      .replaceAll('ASG_NAME', 'prod-asg-a')
      .replaceAll('INBOUND_TOPIC', 'ecs-events'),
  ) as { Statement: Statement[] };

  it('covers every resource type of both templates', () => {
    const types = new Set([...Object.values(osls.Resources), ...Object.values(plain.Resources)].map((r) => r.Type));
    for (const type of types) {
      expect(DEPLOY_ACTIONS[type], `${type}: which actions does CloudFormation need for it?`).toBeDefined();
      for (const action of DEPLOY_ACTIONS[type]!) expect(allowed.has(action), `${type} needs ${action}`).toBe(true);
    }
  });

  it('never lets the deployer delete the state table, and grants nothing type-wide', () => {
    expect([...allowed].filter((a) => a.startsWith('dynamodb:Delete'))).toEqual([]);
    expect(filled.Statement.flatMap((s) => wildcardFindings(s))).toEqual([]);
    expect(JSON.stringify(filled)).not.toMatch(/[A-Z]{3,}_[A-Z_]+/); // every placeholder was documented and filled
  });

  it('scopes the roles it creates and passes to the stack, passed only to Lambda and Scheduler', () => {
    const pass = filled.Statement.find((s) => [s.Action].flat().includes('iam:PassRole'))!;
    expect(pass.Resource).toBe('arn:aws:iam::123456789012:role/platform/ecs-caretaker/cc-locked-prod-*');
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'scheduler.amazonaws.com'] } });
  });
});
