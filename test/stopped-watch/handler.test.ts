/**
 * stopped-watch's real handler (middy, Powertools, SDK clients built from the
 * environment) against the simulator: ECS, SNS, EventBridge and DynamoDB
 * reached through AWS_ENDPOINT_URL_*, as in Lambda. Events arrive through the
 * simulated default bus with the function's own patterns, or through an SNS
 * topic the handler subscribes to, and the flush runs on the simulated clock.
 *
 * The handler reads Date.now(); the tests keep it on the simulator's clock
 * (vi.setSystemTime) so a 10-minute window passes in milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanupRequestedPattern, isCleanupRequest } from '../../functions/shared/cleanup-request.ts';
import { stoppedWatchPatterns } from '../../functions/stopped-watch/events.ts';
import type { StoppedWatchSettings } from '../../functions/stopped-watch/settings.ts';
import type { BatchReport, FlushReport } from '../../functions/stopped-watch/watch.ts';
import { installDrainWorld } from '../../sim/drain.ts';
import { installDynamoProxy } from '../../sim/dynamo-proxy.ts';
import { installEventBridge, type EventBridgeSim } from '../../sim/eventbridge.ts';
import { createTable, startSim, type AwsEvent, type Sim } from '../../sim/index.ts';
import { installSns, type SnsSim } from '../../sim/sns.ts';
import { loadAwsEvents } from '../support/fixtures.ts';
import { fakeContext } from '../../sim/lambda.ts';
import { flushEvent, oomStop, snsWrapped, stoppedTask, thinPoolStop } from './support.ts';

const T0 = new Date('2026-11-23T10:00:00Z');
const MIN = 60_000;
const FIXTURE_CLUSTERS = ['default', 'test', 'DemoTrafficGen01-EcsCluster97242B84-u8PnqOAmk1tO'];

let sim: Sim;
let sns: SnsSim;
let eventBridge: EventBridgeSim;
let alertTopic: string;
const savedEnv = { ...process.env };

type Handler = (event: unknown, context: unknown) => Promise<BatchReport | FlushReport>;
let handler: Handler;
let logger: { warn: (...args: any[]) => void; error: (...args: any[]) => void };
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  sim = await startSim({ start: T0, seed: 7 });
  installDrainWorld(sim); // ECS container instances for the thin-pool stops
  sns = installSns(sim);
  eventBridge = installEventBridge(sim);
  installDynamoProxy(sim); // DynamoDB through the dispatcher: call log and faults
  alertTopic = sns.createTopic('ops-alerts');
  sim.ecs.addCluster('prod');
});
afterAll(async () => {
  vi.useRealTimers();
  process.env = savedEnv;
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(sim.clock.now());
});
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
  vi.useRealTimers();
});

/** A cold start with this configuration and a fresh table, as after a deployment. */
async function coldStart(alerts: Partial<StoppedWatchSettings['alerts']> = {}, clusters = ['prod', ...FIXTURE_CLUSTERS]): Promise<void> {
  const settings: StoppedWatchSettings = {
    clusters,
    alerts: { topicArn: alertTopic, minSeverity: 'high', windowMinutes: 10, ...alerts },
    requestCleanup: true,
  };
  const tableName = `stopped-watch-${randomUUID().slice(0, 8)}`;
  Object.assign(process.env, sim.env(), { TABLE_NAME: tableName, STOPPED_WATCH_CONFIG: JSON.stringify(settings) });
  await createTable(sim.env().AWS_ENDPOINT_URL_DYNAMODB!, tableName);
  vi.resetModules();
  ({ handler } = (await import('../../functions/stopped-watch/handler.ts')) as { handler: Handler });
  ({ logger } = await import('../../functions/shared/powertools.ts'));
}

const invoke = (event: unknown) => {
  vi.setSystemTime(sim.clock.now());
  return handler(event, fakeContext('cc-test-stoppedWatch'));
};

/** The function's EventBridge rules on the simulated default bus. */
function subscribeRules(clusters = ['prod', ...FIXTURE_CLUSTERS]): void {
  for (const [name, pattern] of Object.entries(stoppedWatchPatterns(clusters))) {
    cleanups.push(sim.bus.subscribePattern(`stopped-watch-${name}-${randomUUID()}`, pattern, (event) => invoke(event)));
  }
}

/** The flush rule, rate(1 minute), on the simulated clock, while `minutes` pass. */
async function runMinutes(minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    await sim.clock.advance(MIN);
    await invoke(flushEvent(sim.clock.date().toISOString()));
  }
}

const alertsSince = (mark: number) => sns.messages(alertTopic).slice(mark);

/** EMF lines written to stdout by Powertools Metrics while `body` runs. */
async function captureMetrics(body: () => Promise<unknown>): Promise<Array<Record<string, any>>> {
  const lines: string[] = [];
  // vitest.config.ts disables EMF output for the suite; this test reads the real EMF documents.
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const original = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: any, ...rest: any[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) lines.push(...text.trim().split('\n'));
    else return original(chunk, ...rest);
    return true;
  }) as typeof process.stdout.write);
  try {
    await body();
  } finally {
    spy.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = disabled;
  }
  return lines.map((l) => JSON.parse(l));
}

describe('real payloads through the handler path', () => {
  it('the rules deliver exactly the expected real payloads, and each gets the expected outcome', async () => {
    await coldStart();
    let current: Array<Record<string, unknown>> = [];
    for (const [name, pattern] of Object.entries(stoppedWatchPatterns(['prod', ...FIXTURE_CLUSTERS]))) {
      cleanups.push(
        sim.bus.subscribePattern(`fixture-${name}`, pattern, async (event) => {
          const report = (await invoke(event)) as BatchReport;
          current.push({ rule: name, ...report.records[0] });
        }),
      );
    }
    // One file at a time: the documentation examples reuse event ids.
    const byFile: Record<string, Record<string, unknown>> = {};
    for (const [file, event] of loadAwsEvents()) {
      current = [];
      sim.bus.put(structuredClone(event) as AwsEvent);
      await sim.bus.drain();
      if (current.length > 1) throw new Error(`${file} was delivered by ${current.length} rules`);
      if (current[0]) byFile[file] = current[0];
    }
    const pick = (o: any) => ({ rule: o.rule, category: o.category, alert: o.alert });
    expect(Object.fromEntries(Object.entries(byFile).map(([f, o]) => [f, pick(o)]))).toEqual({
      'ecs-deployment-failed-docs.json': { rule: 'deployment', category: 'deployment-failed', alert: 'alerted' },
      'ecs-deployment-in-progress-rollback-docs.json': { rule: 'deployment', category: 'deployment-rollback', alert: 'below-min-severity' },
      'ecs-service-action-placement-failure-ec2-cpu-docs.json': { rule: 'serviceAction', category: 'placement', alert: 'below-min-severity' },
      'ecs-service-action-placement-failure-fargate-spot-docs.json': { rule: 'serviceAction', category: 'placement', alert: 'below-min-severity' },
      'ecs-service-action-task-start-impaired-docs.json': { rule: 'serviceAction', category: 'placement', alert: 'below-min-severity' },
      'ecs-task-state-change-stopped-essential-exit-multicontainer.json': { rule: 'taskStopped', category: 'essential-exit', alert: 'below-min-severity' },
      'ecs-task-state-change-stopped-scaling-ec2-exit137.json': { rule: 'taskStopped', category: 'deployment-benign', alert: 'never-alerted' },
    });
  });

  it('every real payload relayed through SNS: classified, ignored or rejected with its reason', async () => {
    await coldStart();
    const got: Record<string, string> = {};
    for (const [file, event] of loadAwsEvents()) {
      try {
        const report = (await invoke(snsWrapped(event))) as BatchReport;
        const r = report.records[0]!;
        got[file] = r.outcome === 'classified' ? `${r.category}:${r.alert}` : r.outcome;
      } catch (error) {
        got[file] = `failed: ${(error as Error).message}`;
      }
    }
    const missingDetailType = 'failed: 1 of 1 records failed: #0: Records[0].Sns.Message is not an EventBridge event: "detail-type" is missing';
    expect(got).toEqual({
      'asg-terminate-lifecycle-action-eventbridge-docs.json': 'ignored',
      'asg-terminate-successful-eventbridge-docs.json': 'ignored',
      'cloudwatch-alarm-lambda-action-single-metric-powertools.json': missingDetailType,
      'cloudwatch-alarm-state-change-anomaly-detection-docs.json': 'ignored',
      'cloudwatch-alarm-state-change-composite-docs.json': 'ignored',
      'cloudwatch-alarm-state-change-metric-math-docs.json': 'ignored',
      'cloudwatch-alarm-state-change-single-metric-docs.json': 'ignored',
      'ec2-rebalance-recommendation-docs.json': 'ignored',
      'ec2-spot-interruption-warning-docs.json': 'ignored',
      'ecs-container-instance-state-change-active-docs.json': 'ignored',
      'ecs-deployment-completed-docs.json': 'ignored',
      'ecs-deployment-failed-docs.json': 'deployment-failed:alerted',
      'ecs-deployment-in-progress-docs.json': 'ignored',
      'ecs-deployment-in-progress-rollback-docs.json': 'deployment-rollback:below-min-severity',
      'ecs-service-action-capacity-provider-steady-state-docs.json': 'ignored',
      'ecs-service-action-placement-failure-ec2-cpu-docs.json': 'placement:below-min-severity',
      'ecs-service-action-placement-failure-fargate-spot-docs.json': 'placement:below-min-severity',
      'ecs-service-action-steady-state-docs.json': 'ignored',
      'ecs-service-action-task-start-impaired-docs.json': 'placement:below-min-severity',
      'ecs-task-state-change-container-exited-task-running-docs-2018.json': 'ignored',
      'ecs-task-state-change-running-fargate-docs.json': 'ignored',
      'ecs-task-state-change-stopped-essential-exit-multicontainer.json': 'essential-exit:below-min-severity',
      'ecs-task-state-change-stopped-scaling-ec2-exit137.json': 'deployment-benign:never-alerted',
      'related-update-container-instances-state-draining-api-response-awscli.json': missingDetailType,
      'scheduled-event-rule-dotnet.json': 'ignored',
    });
    // Invoked directly, the scheduled event is the flush.
    expect(await invoke(structuredClone(loadAwsEvents().get('scheduled-event-rule-dotnet.json')))).toMatchObject({
      examined: expect.any(Number),
      sent: expect.any(Number),
    });
  });
});

describe('alerts', () => {
  it('100 identical OOM stops in 5 minutes: exactly 1 alert, then exactly 1 summary after the window, via the flush', async () => {
    await coldStart();
    subscribeRules();
    const mark = sns.messages(alertTopic).length;
    for (let i = 0; i < 100; i++) {
      sim.bus.put(oomStop({ cluster: 'prod', service: 'checkout' }));
      await sim.clock.advance(3000);
    }
    expect(alertsSince(mark)).toHaveLength(1);
    expect(alertsSince(mark)[0]).toMatchObject({
      subject: 'ECS HIGH: Out of memory - prod/checkout',
      attributes: { severity: { StringValue: 'high' }, category: { StringValue: 'oom' } },
    });
    await runMinutes(4); // T+9 min: the window (opened at T+1 s) is still open
    expect(alertsSince(mark)).toHaveLength(1);
    await runMinutes(3);
    await runMinutes(10);
    const sent = alertsSince(mark);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.subject).toBe('ECS HIGH: 99 more Out of memory in 10 min - prod/checkout');
    expect(sent[1]!.message.split('\n')[0]).toBe('99 more task stops in the last 10 min: Out of memory (oom), severity high.');
    expect(sent[1]!.message).toContain('https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/health?region=eu-west-1');
    expect(sim.bus.failures).toEqual([]);
  });

  it('the same event delivered 3 times in parallel: one alert, one count', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    const event = oomStop({ service: 'dup' });
    const reports = (await Promise.all([1, 2, 3].map(() => invoke(structuredClone(event))))) as BatchReport[];
    expect(reports.map((r) => (r.records[0] as any).alert).sort()).toEqual(['alerted', 'duplicate', 'duplicate']);
    await runMinutes(12);
    expect(alertsSince(mark).map((m) => m.subject)).toEqual(['ECS HIGH: Out of memory - prod/dup']);
  });

  it('duplicate and reordered bus deliveries still give one alert and an exact summary', async () => {
    await coldStart();
    subscribeRules();
    sim.faults.events({ duplicate: 0.5, maxCopies: 3, reorderWindowMs: 5000 });
    const mark = sns.messages(alertTopic).length;
    for (let i = 0; i < 20; i++) sim.bus.put(oomStop({ service: 'flaky' }));
    await runMinutes(12);
    expect(sim.bus.delivered.filter((d) => d.copy > 1).length).toBeGreaterThan(0);
    const sent = alertsSince(mark).map((m) => m.subject);
    expect(sent).toEqual(['ECS HIGH: Out of memory - prod/flaky', 'ECS HIGH: 19 more Out of memory in 10 min - prod/flaky']);
  });

  it('severity below minSeverity: StoppedTasks metric, no alert; deployment-benign and user-stop never alert even at info', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    const emf = await captureMetrics(() =>
      invoke(stoppedTask({ service: 'api', stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 1 })),
    );
    const stopped = emf.find((m) => 'StoppedTasks' in m)!;
    expect(stopped).toMatchObject({ ClusterName: 'prod', ServiceName: 'api', Category: 'essential-exit', StoppedTasks: 1 });
    expect(stopped._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'EcsCaretaker', Metrics: [{ Name: 'StoppedTasks', Unit: 'Count' }] });
    expect(stopped._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['ClusterName', 'ServiceName', 'Category']));
    expect(JSON.stringify(stopped)).not.toContain('task/');

    await coldStart({ minSeverity: 'info' });
    await invoke(
      stoppedTask({ service: 'api', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/123)', stopCode: 'ServiceSchedulerInitiated' }),
    );
    await invoke(stoppedTask({ service: 'api', stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' }));
    await runMinutes(12);
    expect(alertsSince(mark)).toEqual([]);
  });

  it('throttled SNS and DynamoDB: the SDK retries and exactly one alert goes out', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    const callMark = sim.calls.length;
    for (const op of ['UpdateItem', 'GetItem', 'PutItem']) sim.faults.failNext('dynamodb', op, 'ProvisionedThroughputExceededException');
    sim.faults.failNext('sns', 'Publish', 'Throttled');
    const report = (await invoke(oomStop({ service: 'throttled' }))) as BatchReport;
    expect(report.records[0]).toMatchObject({ alert: 'alerted' });
    sim.faults.failNext('dynamodb', 'UpdateItem', 'ThrottlingException', 2);
    await invoke(oomStop({ service: 'throttled' }));
    sim.faults.failNext('dynamodb', 'Scan', 'ProvisionedThroughputExceededException');
    sim.faults.failNext('sns', 'Publish', 'Throttled');
    await runMinutes(12);
    expect(alertsSince(mark).map((m) => m.subject)).toEqual([
      'ECS HIGH: Out of memory - prod/throttled',
      'ECS HIGH: 1 more Out of memory in 10 min - prod/throttled',
    ]);
    const throttled = sim.calls
      .slice(callMark)
      .filter((c) => c.error === 'Throttled' || c.error === 'ProvisionedThroughputExceededException' || c.error === 'ThrottlingException');
    expect(throttled.map((c) => `${c.service}.${c.op}`).sort()).toEqual(
      [
        'dynamodb.GetItem',
        'dynamodb.PutItem',
        'dynamodb.Scan',
        'dynamodb.UpdateItem',
        'dynamodb.UpdateItem',
        'dynamodb.UpdateItem',
        'sns.Publish',
        'sns.Publish',
      ].sort(),
    );
  });

  it('a window write that DynamoDB applied but answered with an error: no alert lost, none doubled', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    // The SDK retries the PutItem; the retry finds its own window and the event counted, so this invocation sends nothing...
    sim.faults.failNext('dynamodb', 'PutItem', 'InternalServerError', 1, { afterApply: true });
    await invoke(oomStop({ service: 'ghost' }));
    expect(alertsSince(mark)).toEqual([]);
    // ...and the flush sends the first alert once the claim's lease has run out.
    await runMinutes(3);
    expect(alertsSince(mark).map((m) => m.subject)).toEqual(['ECS HIGH: Out of memory - prod/ghost']);
    await runMinutes(12);
    expect(alertsSince(mark)).toHaveLength(1);
  });

  it('SNS applied a Publish but answered 500: the SDK retry repeats the message, with the same alertId for subscribers to drop', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    sim.faults.failNext('sns', 'Publish', 'InternalError', 1, { afterApply: true });
    await invoke(oomStop({ service: 'echo' }));
    await invoke(oomStop({ service: 'echo' }));
    await runMinutes(12);
    const sent = alertsSince(mark);
    expect(sent.map((m) => m.attributes.kind?.StringValue)).toEqual(['first', 'first', 'summary']);
    const ids = sent.map((m) => m.attributes.alertId?.StringValue);
    expect(ids[0]).toMatch(/^alert#prod#echo#oom#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#first$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]!.replace(/#first$/, '#summary'));
  });

  it('a publish that keeps failing is sent by a later flush, once', async () => {
    await coldStart();
    const mark = sns.messages(alertTopic).length;
    sim.faults.failNext('sns', 'Publish', 'InternalError', 5); // more than the SDK's 5 attempts allow
    expect(((await invoke(oomStop({ service: 'late' }))) as BatchReport).records[0]).toMatchObject({ alert: 'alert-failed' });
    expect(alertsSince(mark)).toEqual([]);
    await runMinutes(1);
    await runMinutes(1);
    expect(alertsSince(mark).map((m) => m.subject)).toEqual(['ECS HIGH: Out of memory - prod/late']);
  });
});

describe('cleanup hand-off', () => {
  it('the thin-pool stop on an EC2 task puts exactly one Cleanup Requested event, even delivered twice', async () => {
    await coldStart();
    subscribeRules();
    const instance = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0a1b2c3d4e5f60718' });
    const requests: AwsEvent[] = [];
    cleanups.push(sim.bus.subscribePattern(`cleanup-${randomUUID()}`, cleanupRequestedPattern, (event) => void requests.push(event)));
    const event = thinPoolStop({ cluster: 'prod', service: 'web', containerInstanceId: instance.id });
    expect(event.detail.containerInstanceArn).toBe(instance.arn);
    sim.bus.put(event);
    sim.bus.put(structuredClone(event));
    await invoke(structuredClone(event));
    await sim.bus.drain();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ source: 'ecs-caretaker', 'detail-type': 'Cleanup Requested', resources: [instance.arn] });
    expect(requests[0]!.detail).toEqual({
      cluster: 'prod',
      containerInstanceArn: instance.arn,
      reason: event.detail.stoppedReason,
      requestedBy: 'stopped-watch',
    });
    expect(isCleanupRequest(requests[0]!.detail)).toBe(true);
    // stopped-watch makes no ECS call at all: the cleanup function resolves the container instance.
    expect(sim.countCalls('ecs')).toBe(0);
  });

  it('a PutEvents entry failure makes Lambda retry the event, and the retry requests the cleanup', async () => {
    await coldStart();
    const instance = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0fedcba9876543210' });
    const before = eventBridge.accepted('Cleanup Requested').length;
    eventBridge.failNextEntries(1, 'InternalFailure');
    const event = thinPoolStop({ containerInstanceId: instance.id, service: 'retry' });
    await expect(invoke(structuredClone(event))).rejects.toThrow('PutEvents did not accept the Cleanup Requested event: InternalFailure');
    await invoke(structuredClone(event)); // Lambda's async retry
    expect(eventBridge.accepted('Cleanup Requested').length).toBe(before + 1);
  });
});

describe('input', () => {
  it('ECS events relayed by an SNS topic the function subscribes to are unwrapped and alerted', async () => {
    await coldStart();
    const relay = sns.createTopic(`ecs-events-${randomUUID().slice(0, 8)}`);
    sns.subscribe(relay, (event) => invoke(event));
    const mark = sns.messages(alertTopic).length;
    sns.publish({ TopicArn: relay, Message: JSON.stringify(oomStop({ service: 'relayed' })) }, sim.clock.now());
    await sim.clock.advance(1000);
    expect(sns.deliveryFailures).toEqual([]);
    expect(alertsSince(mark).map((m) => m.subject)).toEqual(['ECS HIGH: Out of memory - prod/relayed']);
  });

  it('malformed records are logged with the reason and fail the invocation after the good ones are processed', async () => {
    await coldStart();
    const error = vi.spyOn(logger, 'error');
    const mark = sns.messages(alertTopic).length;
    const invocation = invoke(snsWrapped('{"truncated":', oomStop({ service: 'mixed' }), 42, thinPoolStop({ containerInstanceId: null, service: 'mixed' })));
    await expect(invocation).rejects.toMatchObject({
      name: 'BatchFailedError',
      report: {
        failed: 2,
        records: [
          { outcome: 'failed', error: expect.stringContaining('Records[0].Sns.Message is not JSON') },
          { outcome: 'classified', category: 'oom', alert: 'alerted' },
          { outcome: 'failed', error: 'Records[2].Sns.Message is not a JSON object (number)' },
          { outcome: 'classified', category: 'image-pull-disk-full', alert: 'alerted', cleanup: 'not-on-ec2' },
        ],
      },
    });
    expect(error).toHaveBeenCalledWith(
      'Unusable input record',
      expect.objectContaining({ index: 0, via: 'sns', reason: expect.stringContaining('is not JSON') }),
    );
    expect(error).toHaveBeenCalledWith(
      'Unusable input record',
      expect.objectContaining({ index: 2, reason: 'Records[2].Sns.Message is not a JSON object (number)' }),
    );
    expect(alertsSince(mark).map((m) => m.subject)).toEqual(['ECS HIGH: Out of memory - prod/mixed', 'ECS HIGH: Image pull: instance disk full - prod/mixed']);
  });

  it('a malformed ECS event in a configured cluster is counted as unknown with its reason', async () => {
    await coldStart();
    const warn = vi.spyOn(logger, 'warn');
    const event = oomStop({ service: 'odd' });
    event.detail.containers = [{ name: 7 }];
    const report = (await invoke(event)) as BatchReport;
    expect(report.records[0]).toMatchObject({ outcome: 'classified', category: 'unknown', malformed: true });
    expect(warn).toHaveBeenCalledWith(
      'Malformed ECS event classified as unknown',
      expect.objectContaining({ reason: 'malformed ECS Task State Change: detail.containers[0].name is not a string' }),
    );
  });

  it('classification makes no AWS call: events that need no alert touch neither DynamoDB nor any other service', async () => {
    await coldStart();
    const calls = sim.calls.length;
    for (const [, event] of loadAwsEvents()) await invoke(snsWrapped(event)).catch(() => undefined);
    const made = sim.calls.slice(calls).map((c) => `${c.service}.${c.op}`);
    // Only the one high-severity fixture (SERVICE_DEPLOYMENT_FAILED) reaches the alert path.
    expect(made.every((c) => c.startsWith('dynamodb.') || c === 'sns.Publish')).toBe(true);
    expect(made.filter((c) => c === 'sns.Publish')).toHaveLength(1);
  });
});
