import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../functions/shared/metric-names.ts';
import { cleanupAlarmNamePrefix } from '../../functions/cleanup/settings.ts';
import { occurrenceRetryPolicy } from '../../infra/schedules.ts';
import { repoRoot } from '../support/fixtures.ts';
import { embeddedSettings, packageService, resourcesOfType, type Template } from '../support/package.ts';

const OPS_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:caretaker-ops';
const INBOUND = 'arn:aws:sns:us-east-1:210987654321:ecs-events-relay';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every name the code can pass to addMetric, read by the type checker from
 * the first argument of each call: a literal gives itself, a MetricName
 * parameter its union. A call whose name is a plain `string` is reported,
 * because nothing could prove where that metric is watched.
 */
function emittedMetricNames(): { names: Set<string>; untyped: string[]; calls: number } {
  const program = ts.createProgram(sourceFiles(join(repoRoot, 'functions')), {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  const untyped: string[] = [];
  let calls = 0;
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(join(repoRoot, 'functions'))) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'addMetric' && node.arguments[0]) {
        calls++;
        const type = checker.getTypeAtLocation(node.arguments[0]);
        const parts = type.isUnion() ? type.types : [type];
        for (const part of parts) {
          if (part.isStringLiteral()) names.add(part.value);
          else
            untyped.push(
              `${file.fileName.slice(repoRoot.length + 1)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} (${checker.typeToString(part)})`,
            );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { names, untyped, calls };
}

let template: Template;
let packageDir: string;
beforeAll(async () => {
  ({ template, dir: packageDir } = await packageService(join(repoRoot, 'test/fixtures/caretaker-ops.config.ts'), 'prod'));
}, 600_000);

const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm');
const dashboardBody = (): { widgets: Array<{ properties: { title: string; metrics: unknown[] } }> } => {
  const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  return JSON.parse(dashboards[0]![1].Properties.DashboardBody['Fn::Sub']);
};
const MI = /^SELECT [A-Z]+\((\w+)\) FROM SCHEMA\("EcsCaretaker", [\w, ]+\) WHERE service = '\w+'/;
const SEARCH = /^(?:SUM|MAX|AVG)\(SEARCH\('\{EcsCaretaker,[\w,]+\} MetricName="(\w+)" service="\w+"'/;
/** The metric a Metrics Insights query (SELECT SUM(Name) FROM ...) or a SEARCH expression reads. */
const queried = (expression: string): string | undefined => MI.exec(expression)?.[1] ?? SEARCH.exec(expression)?.[1];
/** The EcsCaretaker metric an alarm watches, whether a plain metric alarm or a Metrics Insights one. */
const alarmedMetric = (alarm: any): string | undefined =>
  alarm.Properties.Namespace === 'EcsCaretaker' ? alarm.Properties.MetricName : queried(alarm.Properties.Metrics?.[0]?.Expression ?? '');
/** The EcsCaretaker metric a graph line shows: a plain metric line, or an expression. */
const shown = (line: unknown[]): string | undefined =>
  line[0] === 'EcsCaretaker' ? (line[1] as string) : queried((line[0] as { expression?: string })?.expression ?? '');

describe('what the code emits is watched in the packaged template', () => {
  it('every metric name the code can emit has an alarm or a dashboard widget', () => {
    const { names, untyped, calls } = emittedMetricNames();
    expect(untyped, 'addMetric calls whose name is not a MetricName').toEqual([]);
    expect(calls).toBeGreaterThan(20);
    // Helpers take a MetricName, so their calls contribute the whole registry; literal calls must be in it too.
    expect([...names].filter((n) => !(n in METRICS))).toEqual([]);

    const inAlarms = alarms().map(([, a]) => alarmedMetric(a));
    const inWidgets = dashboardBody().widgets.flatMap((w) => w.properties.metrics.map((line) => shown(line as unknown[])));
    const watched = new Set([...inAlarms, ...inWidgets].filter((n): n is string => n !== undefined));
    const unwatched = [...names].filter((n) => !watched.has(n));
    expect(unwatched).toEqual([]);
  });

  it('alarms on every failure metric of every deployed function, and on each function’s Lambda errors, to the ops topic', () => {
    const failureAlarms = alarms().filter(([, a]) => alarmedMetric(a));
    const expected = Object.entries(METRICS).flatMap(([name, spec]) => ('alarm' in spec ? spec.emitters.map((e) => `${e.fn}:${name}`) : []));
    expect(failureAlarms).toHaveLength(expected.length);
    for (const name of ['DrainTimedOut', 'HeartbeatFailed', 'CleanupFailed', 'RunTaskFailed', 'AlertSendFailed', 'ClusterAuditFailed']) {
      expect(
        failureAlarms.some(([, a]) => alarmedMetric(a) === name),
        name,
      ).toBe(true);
    }
    const runTask = failureAlarms.find(([, a]) => alarmedMetric(a) === 'RunTaskFailed')![1];
    // The Job dimension is in the schema: without it the query would find no RunTaskFailed at all.
    expect(runTask.Properties.Metrics[0].Expression).toBe(`SELECT SUM(RunTaskFailed) FROM SCHEMA("EcsCaretaker", Job, service) WHERE service = 'taskLock'`);
    // A metric with only the service dimension is a plain alarm on exactly that dimension set.
    const timedOut = failureAlarms.find(([, a]) => alarmedMetric(a) === 'DrainTimedOut')![1];
    expect(timedOut.Properties).toMatchObject({ Namespace: 'EcsCaretaker', MetricName: 'DrainTimedOut', Dimensions: [{ Name: 'service', Value: 'drain' }] });
    // Metrics Insights alarms are a per-region quota (200): a stack uses a handful.
    expect(failureAlarms.filter(([, a]) => a.Properties.Metrics).length).toBeLessThanOrEqual(12);
    const lambdaErrors = alarms().filter(([, a]) => a.Properties.Namespace === 'AWS/Lambda');
    expect(lambdaErrors).toHaveLength(resourcesOfType(template, 'AWS::Lambda::Function').length);
    for (const [id, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions, id).toEqual([OPS_TOPIC]);
      expect(alarm.Properties.OKActions, id).toEqual([OPS_TOPIC]);
    }
  });

  it('names no alarm under the cleanup alarm prefix, which would start a cleanup run', () => {
    const prefix = cleanupAlarmNamePrefix('cc-ops-prod');
    const names = alarms().map(([, a]) => a.Properties.AlarmName as string);
    expect(names.filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(names).toContain('cc-ops-prod-ops-cleanup-dead-letters');
  });

  it('has one dashboard with the drain, hook, cleanup, stop, task-lock panels and errors, duration and dead letters per function', () => {
    const widgets = dashboardBody().widgets;
    const titles = widgets.map((w) => w.properties.title);
    for (const word of ['Drains', 'Lifecycle hooks', 'Cleanup runs', 'bytes reclaimed', 'Stopped tasks', 'task-lock', 'errors', 'duration', 'Dead letters']) {
      expect(
        titles.some((t) => t.includes(word)),
        word,
      ).toBe(true);
    }
    const stops = widgets.find((w) => w.properties.title === 'Stopped tasks by category')!;
    expect(JSON.stringify(stops.properties.metrics)).toContain('GROUP BY Category');
    // A graph is one GetMetricData call, which takes a single Metrics Insights query.
    for (const w of widgets) {
      const insights = w.properties.metrics.filter((line) => MI.test((line as Array<{ expression?: string }>)[0]?.expression ?? ''));
      expect(insights.length, w.properties.title).toBeLessThanOrEqual(1);
    }
    const functions = resourcesOfType(template, 'AWS::Lambda::Function').map(([, f]) => f.Properties.FunctionName as string);
    const duration = widgets.find((w) => w.properties.title.includes('duration'))!;
    expect(duration.properties.metrics).toEqual(functions.map((n) => ['AWS/Lambda', 'Duration', 'FunctionName', n]));
  });
});

describe('no silent drops in the packaged template', () => {
  const dlqOf = (arn: any): string => arn?.['Fn::GetAtt']?.[0];

  it('gives every schedule and rule target a DLQ and a retry policy within the AWS bounds', () => {
    const targets = [
      ...resourcesOfType(template, 'AWS::Events::Rule').flatMap(([id, r]) => r.Properties.Targets.map((t: any) => [id, t] as const)),
      ...resourcesOfType(template, 'AWS::Scheduler::Schedule').map(([id, s]) => [id, s.Properties.Target] as const),
    ];
    // drain: 3 rules + tick; stopped-watch: 4 rules + flush; cleanup: 2 schedules + 3 rules; audit: 2; task-lock: 3 jobs + STOPPED rule.
    expect(targets.length).toBeGreaterThanOrEqual(20);
    for (const [id, target] of targets) {
      expect(target.DeadLetterConfig?.Arn, id).toBeDefined();
      expect(template.Resources[dlqOf(target.DeadLetterConfig.Arn)]?.Type, id).toBe('AWS::SQS::Queue');
      const { MaximumEventAgeInSeconds: age, MaximumRetryAttempts: attempts } = target.RetryPolicy ?? {};
      expect(age, id).toBeGreaterThanOrEqual(60);
      expect(age, id).toBeLessThanOrEqual(3600);
      expect(attempts, id).toBeGreaterThanOrEqual(0);
      expect(attempts, id).toBeLessThanOrEqual(185);
    }
  });

  it('lets a nightly occurrence be at most an hour late and a 15-minute one at most 15 minutes', () => {
    const scheduler = resourcesOfType(template, 'AWS::Scheduler::Schedule');
    const nightly = scheduler.find(([, s]) => s.Properties.ScheduleExpression === 'cron(0 2 * * ? *)')![1];
    expect(nightly.Properties.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(3600);
    // Nor from Lambda's own retry queue, when the delivered occurrence fails (6 h by default).
    expect(template.Resources.TaskLockLambdaFunctionEventInvokeConfig!.Properties.MaximumEventAgeInSeconds).toBe(3600);
    expect(template.Resources.DrainLambdaFunctionEventInvokeConfig!.Properties.MaximumEventAgeInSeconds).toBe(21_600);
    const quarterly = resourcesOfType(template, 'AWS::Events::Rule').find(([, r]) => r.Properties.ScheduleExpression === 'rate(15 minutes)')![1];
    expect(quarterly.Properties.Targets[0].RetryPolicy.MaximumEventAgeInSeconds).toBe(900);
  });

  it('lets the Scheduler role send to the task-lock DLQ, and the inbound topic redrive to the stopped-watch DLQ', () => {
    const role = template.Resources.TaskLockSchedulerRole!.Properties.Policies[0].PolicyDocument.Statement;
    expect(role).toContainEqual(expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['TaskLockDlq', 'Arn'] } }));
    const taskLockQueue = template.Resources.TaskLockDlqPolicy!.Properties.PolicyDocument.Statement;
    expect(taskLockQueue).toContainEqual(
      expect.objectContaining({ Principal: { AWS: [{ 'Fn::GetAtt': ['TaskLockSchedulerRole', 'Arn'] }] }, Action: 'sqs:SendMessage' }),
    );
    const [, subscription] = resourcesOfType(template, 'AWS::SNS::Subscription')[0]!;
    expect(subscription.Properties).toMatchObject({ TopicArn: INBOUND, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['StoppedWatchDlq', 'Arn'] } } });
    const statements = template.Resources.StoppedWatchDlqPolicy!.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': [INBOUND] } } }),
    );
    // One policy per queue: a second AWS::SQS::QueuePolicy on the same queue would replace the first.
    const policiesPerQueue = resourcesOfType(template, 'AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties.Queues));
    expect(new Set(policiesPerQueue).size).toBe(policiesPerQueue.length);
  });

  it('keeps the logical ids osls gave the schedules, so an existing stack updates them in place', () => {
    expect(template.Resources.TaskLockSchedulerSchedule1?.Type).toBe('AWS::Scheduler::Schedule');
    expect(template.Resources.TaskLockEventsRuleSchedule2?.Type).toBe('AWS::Events::Rule');
    expect(template.Resources.TaskLockLambdaPermissionEventsRuleSchedule2?.Properties.SourceArn).toEqual({
      'Fn::GetAtt': ['TaskLockEventsRuleSchedule2', 'Arn'],
    });
    expect(template.Resources.StoppedWatchEventsRuleSchedule1?.Type).toBe('AWS::Events::Rule');
    expect(template.Resources.TaskLockEventsRuleSchedule2!.Properties.Targets[0].Id).toBe('taskLockSchedule');
  });
});

describe('settings in the packaged bundles, not in the 4 KB environment', () => {
  it('leaves no *_CONFIG variable in any function and embeds the jobs in the task-lock bundle', () => {
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(
        Object.keys(variables).filter((name) => name.endsWith('_CONFIG')),
        id,
      ).toEqual([]);
      expect(Buffer.byteLength(JSON.stringify(variables)), id).toBeLessThan(1024);
    }
    const settings = embeddedSettings(packageDir, 'taskLock.zip', 'functions/task-lock/handler.mjs');
    expect(settings.TASK_LOCK_CONFIG.jobs.map((j: { name: string }) => j.name)).toEqual(['nightly', 'quarterly', 'hourly']);
    expect(settings.DRAIN_CONFIG.clusters.map((c: { name: string }) => c.name)).toEqual(['prod', 'batch']);
  });
});

describe('occurrenceRetryPolicy', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(15 minutes)', 900],
    ['rate(1 hour)', 3600],
    ['rate(2 hours)', 3600],
    ['rate(1 day)', 3600],
    ['cron(0 2 * * ? *)', 3600],
    ['at(2027-01-01T00:00:00)', 3600],
  ])('%s: retried for at most %i s', (expression, age) => {
    expect(occurrenceRetryPolicy(expression).maximumEventAgeInSeconds).toBe(age);
  });
});
