/** The cleanup FunctionSpec: document, schedules, rules, alarm permission, environment and least-privilege role. */
import { describe, expect, it } from 'vitest';
import { cleanupPatterns } from '../../functions/cleanup/events.ts';
import { parseCleanupInput } from '../../functions/cleanup/input.ts';
import { cleanupEnvSchema } from '../../functions/cleanup/settings.ts';
import { ConfigError, parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { createRequire } from 'node:module';
import { CLEANUP_ALARM_PERMISSION_LOGICAL_ID, CLEANUP_DOCUMENT_LOGICAL_ID, cleanupFunction, escapeFrameworkVariables } from '../../infra/functions/cleanup.ts';
import { cleanupDocumentContent } from '../../infra/ssm-document.ts';

const context = (input: Partial<CaretakerConfigInput> = {}) => {
  const config = parseConfig({
    clusters: [
      { name: 'prod', asgs: ['prod-asg'] },
      { name: 'batch', asgs: ['batch-a', 'batch-b'] },
    ],
    ...input,
  });
  return { config, stage: 'test', prefix: 'cc-test', tableName: 'cc-test-state' };
};
type Parsed = { value: string; variables?: Array<{ start?: number; end?: number; value?: string; sources?: unknown }> };
const parseVariables = createRequire(import.meta.url)('osls/lib/configuration/variables/parse') as (value: string) => Parsed['variables'] | null;
/** The string osls builds from `text` when every `${` in it is an escape, as lib/configuration/variables/resolve.js joins it. */
function resolveEscapes(text: string): string {
  const variables = parseVariables(text);
  if (!variables) return text;
  let out = '';
  let last = 0;
  for (const v of variables) {
    if (v.sources || v.value === undefined) throw new Error(`osls would resolve a variable in ${JSON.stringify(text.slice(0, 80))}`);
    out += text.slice(last, v.start ?? 0) + v.value;
    last = v.end ?? text.length;
  }
  return out + text.slice(last);
}
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)/;
type Rule = {
  pattern?: unknown;
  schedule?: string;
  input?: Record<string, unknown>;
  deadLetterQueueArn: unknown;
  retryPolicy: { maximumEventAge: number; maximumRetryAttempts: number };
};
const rules = (spec: ReturnType<typeof cleanupFunction>) => spec.definition.events!.map((e) => (e as { eventBridge: Rule }).eventBridge);

describe('cleanup FunctionSpec', () => {
  it('creates the named SSM document from cleanupDocumentResource, updated in place as a new version', () => {
    const spec = cleanupFunction(context({ cleanup: { timeoutSeconds: 900 } }));
    const document = spec.resources![CLEANUP_DOCUMENT_LOGICAL_ID]!;
    expect(document.Type).toBe('AWS::SSM::Document');
    expect(document.Properties).toMatchObject({
      Name: 'cc-test-docker-cleanup',
      UpdateMethod: 'NewVersion',
      DocumentType: 'Command',
      TargetType: '/AWS::EC2::Instance',
    });
    expect(document.Properties!.Content).toEqual(escapeFrameworkVariables(cleanupDocumentContent({ timeoutSeconds: 900 })));
    expect(spec.definition.environment).toMatchObject({ CLEANUP_DOCUMENT_NAME: { Ref: CLEANUP_DOCUMENT_LOGICAL_ID } });
  });

  it("hands the script to CloudFormation unchanged through osls's variable resolution", () => {
    const content = cleanupFunction(context()).resources![CLEANUP_DOCUMENT_LOGICAL_ID]!.Properties!.Content as ReturnType<typeof cleanupDocumentContent>;
    const lines = content.mainSteps[0]!.inputs.runCommand;
    const original = cleanupDocumentContent({}).mainSteps[0]!.inputs.runCommand;
    expect(lines.some((line) => line.includes('${errs:+,}'))).toBe(true);
    // What osls does to each string: parse its variables; escapes carry their literal value.
    expect(lines.map(resolveEscapes)).toEqual(original);
    expect(resolveEscapes('a \\${x} b')).toBe('a ${x} b');
    expect(() => resolveEscapes('${errs:+,}')).toThrow(/Invalid variable source/);
    expect(escapeFrameworkVariables({ a: ['\\${x}', '${y}', 7] })).toEqual({ a: ['\\\\\\${x}', '\\${y}', 7] });
    expect(resolveEscapes(escapeFrameworkVariables('\\${x} ${y}'))).toBe('\\${x} ${y}');
  });

  it('schedules every cluster with an input the handler reads as a schedule, and none when the schedule is null', () => {
    const ctx = context({ cleanup: { schedule: 'cron(0 4 * * ? *)' } });
    const spec = cleanupFunction(ctx);
    const schedules = rules(spec).filter((r) => r.schedule);
    expect(schedules.map((r) => [r.schedule, r.input])).toEqual([
      ['cron(0 4 * * ? *)', { cluster: 'prod', trigger: 'schedule' }],
      ['cron(0 4 * * ? *)', { cluster: 'batch', trigger: 'schedule' }],
    ]);
    const settings = { clusters: ['prod', 'batch'], dryRun: false, alarmNamePrefix: 'cc-test-cleanup', documentName: 'cc-test-docker-cleanup' };
    expect(parseCleanupInput(schedules[1]!.input, settings)).toMatchObject({
      kind: 'run',
      trigger: { kind: 'schedule' },
      scopes: [{ kind: 'cluster', cluster: 'batch' }],
    });
    expect(rules(cleanupFunction(context({ cleanup: { schedule: null } }))).filter((r) => r.schedule)).toEqual([]);
  });

  it('subscribes the alarm, request and report patterns, every rule with the DLQ and a retry policy', () => {
    const spec = cleanupFunction(context());
    const all = rules(spec);
    const patterns = cleanupPatterns({ alarmNamePrefix: 'cc-test-cleanup', documentName: 'cc-test-docker-cleanup' });
    expect(all.filter((r) => r.pattern).map((r) => r.pattern)).toEqual([patterns.alarm, patterns.request, patterns.invocation]);
    for (const rule of all) {
      expect(rule.deadLetterQueueArn).toEqual({ 'Fn::GetAtt': ['CleanupDlq', 'Arn'] });
      expect(rule.retryPolicy).toEqual({ maximumEventAge: 3600, maximumRetryAttempts: 10 });
    }
  });

  it('lets only alarms named with the prefix, in this account, invoke the function as an alarm action', () => {
    const permission = cleanupFunction(context()).resources![CLEANUP_ALARM_PERMISSION_LOGICAL_ID]!;
    expect(permission).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['CleanupLambdaFunction', 'Arn'] },
        Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: { 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:cc-test-cleanup*' },
      },
    });
  });

  it('hands the handler a CLEANUP_CONFIG it accepts', () => {
    const spec = cleanupFunction(context({ cleanup: { dryRun: true, dedupSeconds: 60 } }));
    const env = cleanupEnvSchema.parse(JSON.parse(spec.definition.environment!.CLEANUP_CONFIG as string));
    expect(env).toMatchObject({
      clusters: ['prod', 'batch'],
      alarmNamePrefix: 'cc-test-cleanup',
      cleanup: { dryRun: true, dedupSeconds: 60, maxConcurrency: '10%' },
    });
  });

  it('may run only its document, on instances carrying the cleanup tag, and read ECS only in the configured clusters', () => {
    const { statements } = cleanupFunction(context());
    for (const s of statements) {
      for (const action of asArray(s.Action)) {
        if (asArray(s.Resource).includes('*')) expect(READ_ONLY.test(action), `${action} on "*"`).toBe(true);
      }
    }
    const send = statements.filter((s) => asArray(s.Action).includes('ssm:SendCommand'));
    expect(send.map((s) => s.Resource)).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/cc-test-docker-cleanup' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*' },
    ]);
    expect(send[1]!.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/ecs-caretaker:cleanup': 'true' } });
    const describe = statements.find((s) => s.Action === 'ecs:DescribeContainerInstances')!;
    expect(describe.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': [{ 'Fn::Sub': expect.stringMatching(/:cluster\/prod$/) }, { 'Fn::Sub': expect.stringMatching(/:cluster\/batch$/) }] },
    });
    expect(statements.find((s) => s.Action === 'ecs:ListContainerInstances')!.Resource).toEqual([
      { 'Fn::Sub': expect.stringMatching(/:cluster\/prod$/) },
      { 'Fn::Sub': expect.stringMatching(/:cluster\/batch$/) },
    ]);
    expect(statements.find((s) => s.Sid === 'Table')!.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
  });

  it('keeps the tag condition when a cluster has no ASG, with the tag the operator names', () => {
    const { statements } = cleanupFunction(
      context({ clusters: [{ name: 'prod', asgs: ['prod-asg'] }, { name: 'legacy' }], cleanup: { instanceTag: { key: 'team/cleanup', value: 'yes' } } }),
    );
    const instances = statements.find((s) => s.Sid === 'RunOnTaggedInstances')!;
    expect(instances.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/team/cleanup': 'yes' } });
    expect(instances.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*' });
  });

  it('refuses an aws: tag, for which SSM does not document the condition key, and names the field', () => {
    expect(() => context({ cleanup: { instanceTag: { key: 'aws:autoscaling:groupName', value: 'prod-asg' } } })).toThrow(
      /config\.cleanup\.instanceTag\.key: tag keys starting with "aws:" are reserved for AWS/,
    );
  });

  it('refuses a service name that SSM reserves for its own documents', () => {
    const ctx = { ...context({ service: 'aws-ops' }), prefix: 'aws-ops-test' };
    expect(() => cleanupFunction(ctx)).toThrow(ConfigError);
    expect(() => cleanupFunction(ctx)).toThrow(/config\.service: "aws-ops" would name the SSM document "aws-ops-test-docker-cleanup"/);
  });
});
