/**
 * The stopped-watch logic with SDK mocks for SNS, EventBridge and ECS, and a
 * real DynamoDB (dynalite) for the alert windows: the conditional writes are
 * the point of most of these tests, so they must run against DynamoDB's rules.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../functions/shared/store.ts';
import { createAlertStore } from '../../functions/stopped-watch/alert-store.ts';
import { alertWindowId, CLAIM_LEASE_MS, MAX_SEND_FAILURES, TRACKED_IDS_MAX, type AlertWindow } from '../../functions/stopped-watch/alerts.ts';
import { parseInvocation } from '../../functions/stopped-watch/input.ts';
import type { StoppedWatchSettings } from '../../functions/stopped-watch/settings.ts';
import { cleanupClaimId, flushAlerts, handleEvent, patternsFor, processRecords, type WatchDeps } from '../../functions/stopped-watch/watch.ts';
import { createTable, startDynamo } from '../../sim/index.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { ACCOUNT, oomStop, REGION, snsWrapped, stoppedTask, thinPoolStop } from './support.ts';

const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alerts`;
const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

interface MetricLine {
  name: string;
  dimensions: Record<string, string>;
}

/** Records what singleMetric() would publish, with its dimensions. */
function recordingMetrics(): { metrics: Metrics; lines: MetricLine[] } {
  const lines: MetricLine[] = [];
  const metrics = {
    singleMetric() {
      const dimensions: Record<string, string> = {};
      return {
        addDimension: (key: string, value: string) => {
          dimensions[key] = value;
        },
        addMetric: (name: string) => void lines.push({ name, dimensions: { ...dimensions } }),
      };
    },
    addMetric: () => undefined,
  };
  return { metrics: metrics as unknown as Metrics, lines };
}

interface Harness {
  deps: WatchDeps;
  clock: { now: number };
  sns: ReturnType<typeof mockClient>;
  events: ReturnType<typeof mockClient>;
  lines: MetricLine[];
  logger: Logger;
  dynamoCalls: string[];
  /** Every UpdateItem as sent (low-level input) and as answered. */
  dynamoUpdates: Array<{ input: Record<string, any>; output: Record<string, any> }>;
  published: () => Array<{ Subject?: string; Message?: string }>;
  window: (cluster: string, service: string, category: AlertWindow['category']) => Promise<AlertWindow | undefined>;
}

async function harness(overrides: { settings?: Partial<StoppedWatchSettings>; alerts?: Partial<StoppedWatchSettings['alerts']> } = {}): Promise<Harness> {
  const tableName = `sw-${randomUUID().slice(0, 8)}`;
  await createTable(dynamo.endpoint, tableName);
  const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials, maxAttempts: 5 });
  const dynamoCalls: string[] = [];
  const dynamoUpdates: Harness['dynamoUpdates'] = [];
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      dynamoCalls.push(context.commandName as string);
      const result = await next(args);
      if (context.commandName === 'UpdateItemCommand')
        dynamoUpdates.push({ input: args.input as Record<string, any>, output: result.output as Record<string, any> });
      return result;
    },
    { step: 'initialize', name: 'countCalls' },
  );
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const snsClient = new SNSClient({ region: REGION, credentials });
  const eventsClient = new EventBridgeClient({ region: REGION, credentials });
  const sns = mockClient(snsClient);
  const events = mockClient(eventsClient);
  sns.on(PublishCommand).callsFake(async () => ({ MessageId: randomUUID() }));
  events.on(PutEventsCommand).callsFake(async () => ({ FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] }));
  const clock = { now: T0 };
  const { metrics, lines } = recordingMetrics();
  const logger = new Logger({ logLevel: 'SILENT' });
  const settings: StoppedWatchSettings = {
    clusters: ['prod', 'default'],
    requestCleanup: true,
    ...overrides.settings,
    alerts: { topicArn: TOPIC, minSeverity: 'high', windowMinutes: 10, ...overrides.settings?.alerts, ...overrides.alerts },
  };
  const alerts = createAlertStore(doc, tableName);
  return {
    deps: {
      sns: snsClient,
      events: eventsClient,
      alerts,
      store: createStore(doc, tableName),
      logger,
      metrics,
      now: () => clock.now,
      settings,
      region: REGION,
      newOwner: () => randomUUID(),
      patterns: patternsFor(settings),
    },
    clock,
    sns,
    events,
    lines,
    logger,
    dynamoCalls,
    dynamoUpdates,
    published: () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input),
    window: (cluster, service, category) => alerts.get(alertWindowId(cluster, service, category)),
  };
}

const records = (payload: unknown) => {
  const parsed = parseInvocation(payload);
  if (parsed.kind !== 'records') throw new Error('expected records');
  return parsed.records;
};

describe('alert rate limit', () => {
  it('100 identical OOM stops in 5 minutes: exactly one alert at once, then exactly one summary after the window, via the flush', async () => {
    const h = await harness();
    for (let i = 0; i < 100; i++) {
      h.clock.now = T0 + i * 3000; // 100 stops over 297 s
      await handleEvent(h.deps, oomStop());
      if (i === 0) expect(h.published()).toHaveLength(1);
    }
    expect(h.published()).toHaveLength(1);
    expect(h.published()[0]!.Subject).toBe('ECS HIGH: Out of memory - prod/web');
    expect(h.published()[0]!.Message).toContain('How many: 1 at 10:00 UTC.');

    h.clock.now = T0 + 5 * MIN;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 0 });
    h.clock.now = T0 + 9 * MIN + 59_000;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 0 });
    h.clock.now = T0 + 10 * MIN + 30_000;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 1 });
    h.clock.now = T0 + 11 * MIN;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 0, examined: 0 });

    expect(h.published()).toHaveLength(2);
    const summary = h.published()[1]!;
    expect(summary.Subject).toBe('ECS HIGH: 99 more Out of memory in 10 min - prod/web');
    expect(summary.Message!.split('\n')[0]).toBe('99 more task stops in the last 10 min: Out of memory (oom), severity high.');
    expect(summary.Message).toContain('When: 10:00 to 10:10 UTC, 100 in all');
    const window = await h.window('prod', 'web', 'oom');
    expect(window).toMatchObject({ count: 100, sent: 100, firstSent: true });
    expect(h.lines.filter((l) => l.name === 'StoppedTasks')).toHaveLength(100);
    expect(h.lines.filter((l) => l.name === 'AlertsSent')).toHaveLength(1);
    expect(h.lines.filter((l) => l.name === 'AlertSummariesSent')).toHaveLength(1);
  });

  it('a burst costs one DynamoDB write per event after the first', async () => {
    const h = await harness();
    await handleEvent(h.deps, oomStop());
    const first = h.dynamoCalls.length;
    expect(h.dynamoCalls).toEqual(['UpdateItemCommand', 'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand']);
    for (let i = 0; i < 10; i++) await handleEvent(h.deps, oomStop());
    expect(h.dynamoCalls.length - first).toBe(10);
  });

  it('the burst path (counted, then uncounted ids) never asks DynamoDB for the window back', async () => {
    const h = await harness();
    await handleEvent(h.deps, oomStop());
    const opened = h.dynamoUpdates.length;
    for (let i = 0; i < 3; i++) await handleEvent(h.deps, oomStop());
    // Fill the window's id set to its cap, so that the next event takes the untracked path.
    const id = alertWindowId('prod', 'web', 'oom');
    const fill = Array.from({ length: TRACKED_IDS_MAX - 4 }, (_, i) => `filler-${i}`);
    await h.deps.store.update(id, { add: { eventIds: new Set(fill) } });
    const filled = h.dynamoUpdates.length;
    await handleEvent(h.deps, oomStop());

    const burst = [...h.dynamoUpdates.slice(opened, filled - 1), ...h.dynamoUpdates.slice(filled)];
    const tracked = burst.filter((u) => u.input.UpdateExpression.includes('ADD'));
    const untracked = burst.filter((u) => !u.input.UpdateExpression.includes('ADD'));
    expect(tracked).toHaveLength(3);
    expect(untracked).toHaveLength(1);
    expect(untracked[0]!.input.UpdateExpression).toContain('+');
    for (const update of burst) {
      // DynamoDB's default when the request names none.
      expect(update.input.ReturnValues ?? 'NONE').toBe('NONE');
      expect(update.output.Attributes).toBeUndefined();
    }
    const window = await h.window('prod', 'web', 'oom');
    expect(window).toMatchObject({ count: 5 });
    expect(window!.eventIds!.size).toBe(TRACKED_IDS_MAX);
  });

  it('the same event delivered 3x in parallel: one alert, and the duplicates are not counted', async () => {
    const h = await harness();
    const event = oomStop();
    const outcomes = await Promise.all([1, 2, 3].map(() => handleEvent(h.deps, structuredClone(event))));
    expect(outcomes.map((o) => (o.outcome === 'classified' ? o.alert : o.outcome)).sort()).toEqual(['alerted', 'duplicate', 'duplicate']);
    expect(h.published()).toHaveLength(1);
    expect(await h.window('prod', 'web', 'oom')).toMatchObject({ count: 1, sent: 1 });
    h.clock.now = T0 + 11 * MIN;
    await flushAlerts(h.deps);
    expect(h.published()).toHaveLength(1);
  });

  it('many different events in parallel: one alert, all counted, one summary', async () => {
    const h = await harness();
    await Promise.all(Array.from({ length: 20 }, () => handleEvent(h.deps, oomStop())));
    expect(h.published()).toHaveLength(1);
    expect(await h.window('prod', 'web', 'oom')).toMatchObject({ count: 20 });
    h.clock.now = T0 + 10 * MIN;
    await Promise.all([flushAlerts(h.deps), flushAlerts(h.deps), flushAlerts(h.deps)]);
    expect(h.published()).toHaveLength(2);
    expect(h.published()[1]!.Subject).toContain('19 more');
  });

  it('keeps one window per cluster, service and category', async () => {
    const h = await harness();
    await handleEvent(h.deps, oomStop({ service: 'web' }));
    await handleEvent(h.deps, oomStop({ service: 'api' }));
    await handleEvent(h.deps, oomStop({ service: 'web', cluster: 'default' }));
    await handleEvent(h.deps, thinPoolStop({ service: 'web' }));
    await handleEvent(h.deps, oomStop({ service: 'web' }));
    expect(h.published().map((p) => p.Subject)).toEqual([
      'ECS HIGH: Out of memory - prod/web',
      'ECS HIGH: Out of memory - prod/api',
      'ECS HIGH: Out of memory - default/web',
      'ECS HIGH: Image pull: instance disk full - prod/web',
    ]);
  });

  it('a window that ended with unsent events is reported by the next first alert when an event comes before the flush', async () => {
    const h = await harness();
    for (let i = 0; i < 5; i++) await handleEvent(h.deps, oomStop());
    h.clock.now = T0 + 12 * MIN;
    await handleEvent(h.deps, oomStop());
    expect(h.published()).toHaveLength(2);
    expect(h.published()[1]!.Message).toContain('How many: 1 at 10:12 UTC, plus 4 earlier not yet reported.');
    await flushAlerts(h.deps);
    h.clock.now = T0 + 23 * MIN;
    await flushAlerts(h.deps);
    expect(h.published()).toHaveLength(2);
  });

  it('the flush reads only alert windows that owe a message, without their event ids', async () => {
    const h = await harness();
    await h.deps.store.put({ id: 'lock#nightly#2026-11-23T02:00:00.000Z', state: 'started' });
    await handleEvent(h.deps, oomStop({ service: 'a' }));
    await handleEvent(h.deps, oomStop({ service: 'a' }));
    await handleEvent(h.deps, oomStop({ service: 'b' }));
    await handleEvent(h.deps, thinPoolStop({ service: 'b' }));
    const pending = [];
    for await (const w of h.deps.alerts.scanPending()) pending.push(w);
    expect(pending.map((w) => w.id)).toEqual([alertWindowId('prod', 'a', 'oom')]);
    expect(pending[0]).toMatchObject({ count: 2, sent: 1, firstSent: true, first: { reason: expect.any(String) } });
    expect(pending[0]!.eventIds).toBeUndefined();
  });

  it('a new window after a quiet one alerts again at once', async () => {
    const h = await harness();
    await handleEvent(h.deps, oomStop());
    h.clock.now = T0 + 30 * MIN;
    await flushAlerts(h.deps);
    await handleEvent(h.deps, oomStop());
    expect(h.published()).toHaveLength(2);
    expect(h.published()[1]!.Message).toContain('How many: 1 at 10:30 UTC.');
  });
});

describe('what alerts', () => {
  it('a severity below minSeverity: metric, no alert, and no DynamoDB or AWS call at all', async () => {
    const h = await harness();
    const exit = stoppedTask({ stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 2 });
    const outcome = await handleEvent(h.deps, exit);
    expect(outcome).toMatchObject({ outcome: 'classified', category: 'essential-exit', severity: 'medium', alert: 'below-min-severity' });
    expect(h.lines).toEqual([{ name: 'StoppedTasks', dimensions: { ClusterName: 'prod', ServiceName: 'web', Category: 'essential-exit' } }]);
    expect(h.published()).toHaveLength(0);
    expect(h.dynamoCalls).toEqual([]);
  });

  it('deployment-benign and user-stop never alert, even with minSeverity info', async () => {
    const h = await harness({ alerts: { minSeverity: 'info' } });
    const scaling = stoppedTask({
      stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/9909299324976484585)',
      stopCode: 'ServiceSchedulerInitiated',
    });
    const user = stoppedTask({ stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' });
    const outcomes = [await handleEvent(h.deps, scaling), await handleEvent(h.deps, user)];
    expect(outcomes).toMatchObject([
      { category: 'deployment-benign', alert: 'never-alerted' },
      { category: 'user-stop', alert: 'never-alerted' },
    ]);
    expect(h.published()).toHaveLength(0);
    expect(h.lines.map((l) => l.dimensions.Category)).toEqual(['deployment-benign', 'user-stop']);
  });

  it('without a topic only metrics are published', async () => {
    const h = await harness({ alerts: { topicArn: undefined } });
    expect(await handleEvent(h.deps, oomStop())).toMatchObject({ category: 'oom', alert: 'no-topic' });
    expect(await flushAlerts(h.deps)).toEqual({ examined: 0, sent: 0, failed: 0, abandoned: 0 });
    expect(h.published()).toHaveLength(0);
    expect(h.dynamoCalls).toEqual([]);
  });

  it('metric dimensions are cluster, service (or family for a standalone task) and category; never a task ARN', async () => {
    const h = await harness({ alerts: { topicArn: undefined } });
    await handleEvent(h.deps, oomStop({ service: null, family: 'nightly-report' }));
    await handleEvent(h.deps, loadAwsEvent('ecs-deployment-failed-docs.json'));
    expect(h.lines).toEqual([
      { name: 'StoppedTasks', dimensions: { ClusterName: 'prod', ServiceName: 'family:nightly-report', Category: 'oom' } },
      { name: 'ClusterEvents', dimensions: { ClusterName: 'default', ServiceName: 'servicetest', Category: 'deployment-failed' } },
    ]);
    expect(JSON.stringify(h.lines)).not.toContain('arn:');
  });
});

describe('publish failures', () => {
  it('a failed publish is sent by the next flush, once', async () => {
    const h = await harness();
    h.sns.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await handleEvent(h.deps, oomStop())).toMatchObject({ alert: 'alert-failed' });
    expect(await h.window('prod', 'web', 'oom')).toMatchObject({ firstSent: false, failures: 1 });
    h.sns.on(PublishCommand).callsFake(async () => ({ MessageId: 'm' }));
    h.clock.now = T0 + MIN;
    await Promise.all([flushAlerts(h.deps), flushAlerts(h.deps)]);
    h.clock.now = T0 + 2 * MIN;
    await flushAlerts(h.deps);
    const delivered = h.sns.commandCalls(PublishCommand).slice(1);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.args[0].input.Subject).toBe('ECS HIGH: Out of memory - prod/web');
  });

  it('a sender that died after claiming is replaced by the flush once its lease has run out', async () => {
    const h = await harness();
    let release!: () => void;
    h.sns.on(PublishCommand).callsFakeOnce(() => new Promise((resolve) => (release = () => resolve({ MessageId: 'late' }))));
    void handleEvent(h.deps, oomStop());
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    h.clock.now = T0 + CLAIM_LEASE_MS - 1;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 0 });
    h.clock.now = T0 + CLAIM_LEASE_MS;
    expect(await flushAlerts(h.deps)).toMatchObject({ sent: 1 });
    expect(h.published()).toHaveLength(2);
  });

  it(`gives up after ${MAX_SEND_FAILURES} failed publishes, and logs it`, async () => {
    const h = await harness();
    const error = vi.spyOn(h.logger, 'error');
    h.sns.on(PublishCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AuthorizationErrorException' }));
    await handleEvent(h.deps, oomStop());
    for (let i = 1; i <= MAX_SEND_FAILURES + 1; i++) {
      h.clock.now = T0 + i * MIN;
      await flushAlerts(h.deps);
    }
    expect(h.published()).toHaveLength(MAX_SEND_FAILURES);
    expect(error).toHaveBeenCalledWith(
      'Alert dropped: publishing kept failing',
      expect.objectContaining({ window: alertWindowId('prod', 'web', 'oom'), unsent: 1 }),
    );
    h.clock.now = T0 + 30 * MIN;
    await flushAlerts(h.deps);
    expect(h.published()).toHaveLength(MAX_SEND_FAILURES);
  });
});

describe('cleanup hand-off', () => {
  it('the thin-pool stop of an EC2 task requests exactly one cleanup, even delivered twice', async () => {
    const h = await harness();
    const event = thinPoolStop({ containerInstanceId: 'c2df6e33804b4e12aab6ec6496fdef5d' });
    const outcomes = [await handleEvent(h.deps, event), await handleEvent(h.deps, structuredClone(event))];
    expect(outcomes).toMatchObject([
      { category: 'image-pull-disk-full', cleanup: 'requested', alert: 'alerted' },
      { category: 'image-pull-disk-full', cleanup: 'already-requested', alert: 'duplicate' },
    ]);
    const puts = h.events.commandCalls(PutEventsCommand);
    expect(puts).toHaveLength(1);
    const entry = puts[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ Source: 'ecs-caretaker', DetailType: 'Cleanup Requested', Resources: [event.detail.containerInstanceArn] });
    expect(entry.EventBusName).toBeUndefined();
    // No EC2 id: a task event names only its container instance, which the cleanup function resolves itself.
    expect(JSON.parse(entry.Detail!)).toEqual({
      cluster: 'prod',
      containerInstanceArn: event.detail.containerInstanceArn,
      reason: event.detail.stoppedReason,
      requestedBy: 'stopped-watch',
    });
  });

  it('at most one request per instance per window, whatever the number of tasks; another instance gets its own', async () => {
    const h = await harness();
    for (let i = 0; i < 5; i++) await handleEvent(h.deps, thinPoolStop({ containerInstanceId: 'aaaa' }));
    await handleEvent(h.deps, thinPoolStop({ containerInstanceId: 'bbbb' }));
    expect(h.events.commandCalls(PutEventsCommand)).toHaveLength(2);
    h.clock.now = T0 + 10 * MIN;
    await handleEvent(h.deps, thinPoolStop({ containerInstanceId: 'aaaa' }));
    expect(h.events.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('asks nothing for a task without a container instance (Fargate), or when requestCleanup is off', async () => {
    const h = await harness();
    expect(await handleEvent(h.deps, thinPoolStop({ containerInstanceId: null }))).toMatchObject({ cleanup: 'not-on-ec2' });
    const off = await harness({ settings: { requestCleanup: false } });
    expect(await handleEvent(off.deps, thinPoolStop())).toMatchObject({ cleanup: 'disabled' });
    expect(h.events.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(off.events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('a rejected PutEvents entry fails the record and frees the claim, so the retried event requests again', async () => {
    const h = await harness();
    h.events.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const event = thinPoolStop();
    const first = await processRecords(h.deps, records(event));
    expect(first.records).toMatchObject([{ outcome: 'failed', error: 'PutEvents did not accept the Cleanup Requested event: InternalFailure (try again)' }]);
    expect(await h.deps.store.get(cleanupClaimId(event.detail.containerInstanceArn))).toBeUndefined();
    h.events.on(PutEventsCommand).callsFake(async () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'ok' }] }));
    const retry = await processRecords(h.deps, records(event));
    expect(retry.records).toMatchObject([{ outcome: 'classified', cleanup: 'requested', alert: 'duplicate' }]);
    expect(h.published()).toHaveLength(1);
  });
});

describe('input', () => {
  it('SNS-wrapped events are processed like direct ones', async () => {
    const h = await harness();
    const report = await processRecords(h.deps, records(snsWrapped(oomStop(), loadAwsEvent('ecs-deployment-failed-docs.json'))));
    expect(report).toMatchObject({
      failed: 0,
      records: [
        { category: 'oom', alert: 'alerted' },
        { category: 'deployment-failed', alert: 'alerted' },
      ],
    });
    expect(h.published().map((p) => p.Subject)).toEqual(['ECS HIGH: Out of memory - prod/web', 'ECS HIGH: Deployment failed - default/servicetest']);
  });

  it('events relayed by SNS from clusters that are not configured, or that need nothing, are ignored', async () => {
    const h = await harness();
    const report = await processRecords(
      h.deps,
      records(
        snsWrapped(
          oomStop({ cluster: 'elsewhere' }),
          loadAwsEvent('ecs-service-action-steady-state-docs.json'),
          loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json'),
        ),
      ),
    );
    expect(report).toMatchObject({ failed: 0, records: [{ outcome: 'ignored' }, { outcome: 'ignored' }, { outcome: 'ignored' }] });
    // The foreign cluster and the wrong detail-type are counted (see sns-scope.test.ts); steady state is not.
    expect(h.lines).toEqual([
      { name: 'SnsEventIgnored', dimensions: { Reason: 'cluster' } },
      { name: 'SnsEventIgnored', dimensions: { Reason: 'detail-type' } },
    ]);
  });

  it('malformed records are logged with the reason and reported; the others are still processed', async () => {
    const h = await harness();
    const error = vi.spyOn(h.logger, 'error');
    const warn = vi.spyOn(h.logger, 'warn');
    const brokenContainers = oomStop();
    brokenContainers.detail.containers = 'oops';
    const report = await processRecords(h.deps, records(snsWrapped(oomStop(), 'not json {', { hello: 'world' }, brokenContainers, thinPoolStop())));
    expect(report.failed).toBe(2);
    expect(report.records).toMatchObject([
      { outcome: 'classified', category: 'oom' },
      { outcome: 'failed', error: expect.stringMatching(/^Records\[1\]\.Sns\.Message is not JSON/) },
      { outcome: 'failed', error: 'Records[2].Sns.Message is not an EventBridge event: "detail-type" is missing' },
      { outcome: 'classified', category: 'unknown', malformed: true },
      { outcome: 'classified', category: 'image-pull-disk-full', cleanup: 'requested' },
    ]);
    expect(error).toHaveBeenCalledWith('Unusable input record', expect.objectContaining({ index: 1, reason: expect.stringContaining('is not JSON') }));
    expect(warn).toHaveBeenCalledWith(
      'Malformed ECS event classified as unknown',
      expect.objectContaining({ reason: 'malformed ECS Task State Change: detail.containers is not an array (got string)', cluster: 'prod' }),
    );
    expect(h.lines.filter((l) => l.name === 'MalformedInput')).toHaveLength(3);
  });

  it('a STOPPED event missing its clusterArn is counted as unknown, not dropped', async () => {
    const h = await harness({ alerts: { minSeverity: 'medium' } });
    const event = stoppedTask();
    delete event.detail.clusterArn;
    event.detail.lastStatus = 42;
    expect(await handleEvent(h.deps, event)).toMatchObject({
      outcome: 'classified',
      category: 'unknown',
      malformed: true,
      cluster: 'unknown',
      alert: 'alerted',
    });
  });

  it('a DynamoDB failure fails the record (for a retry) without stopping the batch', async () => {
    const h = await harness();
    // A table that does not exist: every alert write fails with ResourceNotFoundException.
    h.deps.alerts = createAlertStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials })),
      'no-such-table',
    );
    const report = await processRecords(
      h.deps,
      records(snsWrapped(oomStop(), stoppedTask({ stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' }))),
    );
    expect(report).toMatchObject({
      failed: 1,
      records: [
        { outcome: 'failed', error: 'Requested resource not found' },
        { outcome: 'classified', category: 'user-stop' },
      ],
    });
  });
});

describe('visibility of what is ignored or unknown', () => {
  it('an SNS event of a foreign cluster or a wrong detail-type is logged at WARN with why, and counted', async () => {
    const h = await harness();
    const warn = vi.spyOn(h.logger, 'warn');
    const debug = vi.spyOn(h.logger, 'debug');
    await processRecords(h.deps, records(snsWrapped(oomStop({ cluster: 'elsewhere' }), loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json'))));
    expect(warn.mock.calls.map((c) => [c[0], (c[1] as Record<string, unknown>).outOfScope])).toEqual([
      ['Event from SNS ignored: out of scope', 'cluster'],
      ['Event from SNS ignored: out of scope', 'detail-type'],
    ]);
    expect(debug).not.toHaveBeenCalledWith('Event ignored', expect.anything());
  });

  it('the same events from EventBridge (which only delivers what the rules match) stay DEBUG and uncounted', async () => {
    const h = await harness();
    const warn = vi.spyOn(h.logger, 'warn');
    expect(await handleEvent(h.deps, oomStop({ cluster: 'elsewhere' }))).toMatchObject({ outcome: 'ignored' });
    expect(warn).not.toHaveBeenCalled();
    expect(h.lines).toEqual([]);
  });

  it('a stop reason no rule knows gives one WARN line with the raw text and an Unclassified metric', async () => {
    const h = await harness();
    const warn = vi.spyOn(h.logger, 'warn');
    const raw = 'Task stopped because the moon is in the seventh house';
    const outcome = await handleEvent(h.deps, stoppedTask({ stoppedReason: raw, stopCode: '' }));
    expect(outcome).toMatchObject({ outcome: 'classified', category: 'unknown' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('Unclassified stop reason', expect.objectContaining({ rawReason: raw }));
    expect(h.lines).toContainEqual({ name: 'Unclassified', dimensions: { ClusterName: 'prod' } });
  });

  it('a known reason gives no Unclassified metric', async () => {
    const h = await harness();
    await handleEvent(h.deps, oomStop());
    expect(h.lines.map((l) => l.name)).not.toContain('Unclassified');
  });
});

describe('cleanup hand-off for full disks in other wordings', () => {
  it.each([
    ['CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob111111111: no space left on device'],
    [
      'CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device',
    ],
  ])('%s: requests cleanup like a thin-pool error', async (stoppedReason) => {
    const h = await harness();
    const outcome = await handleEvent(h.deps, stoppedTask({ stoppedReason, stopCode: 'TaskFailedToStart', exitCode: null }));
    expect(outcome).toMatchObject({ outcome: 'classified', category: 'image-pull-disk-full', cleanup: 'requested' });
    expect(h.events.commandCalls(PutEventsCommand)).toHaveLength(1);
  });
});
