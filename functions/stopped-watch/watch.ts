import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricName } from '../shared/metric-names.ts';
import { CLEANUP_REASON_MAX, CLEANUP_REQUEST_DETAIL_TYPE, CLEANUP_REQUEST_SOURCE, type CleanupRequest } from '../shared/cleanup-request.ts';
import { matchesPattern, type EventPattern } from '../shared/event-pattern.ts';
import { claim, ownedBy, releaseItem, ttlAfter, type Store } from '../shared/store.ts';
import type { AlertStore } from './alert-store.ts';
import {
  alertWindowId,
  ATTRIBUTE_MAX,
  CLAIM_LEASE_MS,
  cleanField,
  decideOnEvent,
  decideOnFlush,
  NEVER_ALERT,
  renderMessage,
  sampleOf,
  shouldAlert,
  WINDOW_RETENTION_S,
  type AlertWindow,
  type MessageKind,
} from './alerts.ts';
import { classifyEvent, type Classification } from './classify.ts';
import { stoppedWatchPatterns } from './events.ts';
import { eventIdOf, type InputRecord, type Via } from './input.ts';
import { scopeOf, UNKNOWN_CLUSTER, type Scope } from './scope.ts';
import type { StoppedWatchSettings } from './settings.ts';

export interface WatchDeps {
  sns: SNSClient;
  events: EventBridgeClient;
  alerts: AlertStore;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  settings: StoppedWatchSettings;
  /** The function's own region, for console links when an event has none. */
  region: string;
  /** A fresh owner id for each claim, so a claim is released or confirmed only by whoever took it. */
  newOwner: () => string;
  /** The patterns of settings.clusters, built once per cold start. */
  patterns: EventPattern[];
}

export const patternsFor = (settings: StoppedWatchSettings): EventPattern[] => Object.values(stoppedWatchPatterns(settings.clusters));

export type AlertOutcome = 'alerted' | 'alert-failed' | 'counted' | 'duplicate' | 'below-min-severity' | 'never-alerted' | 'no-topic';
export type CleanupOutcome = 'requested' | 'already-requested' | 'not-on-ec2' | 'disabled';

export type RecordOutcome =
  | { index: number; outcome: 'ignored'; why: string }
  | {
      index: number;
      outcome: 'classified';
      eventId: string;
      cluster: string;
      service: string;
      category: Classification['category'];
      severity: Classification['severity'];
      malformed: boolean;
      alert?: AlertOutcome;
      cleanup?: CleanupOutcome;
    }
  | { index: number; outcome: 'failed'; error: string; eventId?: string };

export interface BatchReport {
  records: RecordOutcome[];
  failed: number;
}

/** Thrown after the whole batch was processed when any record failed, so Lambda retries the invocation and finally sends it to the DLQ. */
export class BatchFailedError extends Error {
  override name = 'BatchFailedError';
  readonly report: BatchReport;
  // No parameter property: the handler must also load under Node's type stripping (npm run bench imports it from source).
  constructor(report: BatchReport) {
    const failures = report.records.filter((r): r is Extract<RecordOutcome, { outcome: 'failed' }> => r.outcome === 'failed');
    super(`${failures.length} of ${report.records.length} records failed: ${failures.map((f) => `#${f.index}: ${f.error}`).join('; ')}`);
    this.report = report;
  }
}

const ECS_DETAIL_TYPES = new Set(['ECS Task State Change', 'ECS Service Action', 'ECS Deployment State Change', 'ECS Container Instance State Change']);

/** One metric line per event: its dimensions differ from the next event's, so they cannot share the invocation's buffer. */
function count(deps: WatchDeps, name: MetricName, dimensions: Record<string, string> = {}): void {
  const single = deps.metrics.singleMetric();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

export async function processRecords(deps: WatchDeps, records: InputRecord[]): Promise<BatchReport> {
  const outcomes: RecordOutcome[] = [];
  // In order, one at a time: records of one batch often share an alert window, and racing them would only cost retried writes.
  for (const record of records) {
    if ('error' in record) {
      deps.logger.error('Unusable input record', { index: record.index, via: record.via, messageId: record.messageId, reason: record.error });
      count(deps, 'MalformedInput');
      outcomes.push({ index: record.index, outcome: 'failed', error: record.error });
      continue;
    }
    try {
      outcomes.push(await handleEvent(deps, record.event, record.index, record.via));
    } catch (error) {
      const eventId = eventIdOf(record.event);
      deps.logger.error('Processing an event failed', { index: record.index, eventId, error: error as Error });
      count(deps, 'ProcessingFailed');
      outcomes.push({ index: record.index, outcome: 'failed', error: (error as Error)?.message ?? String(error), eventId });
    }
  }
  return { records: outcomes, failed: outcomes.filter((o) => o.outcome === 'failed').length };
}

/** Decides whether an event is ours, classifies it (no AWS call), counts it, and hands it to the alert and cleanup paths. */
export async function handleEvent(deps: WatchDeps, event: Record<string, unknown>, index = 0, via: Via = 'eventbridge'): Promise<RecordOutcome> {
  const { logger, settings } = deps;
  const eventId = eventIdOf(event);
  const classification = classifyEvent(event);
  const scope = scopeOf(event);
  const subscribed = deps.patterns.some((p) => matchesPattern(p, event));
  // A malformed ECS event cannot match a pattern (the field it filters on is
  // missing or wrong) but is still worth counting as 'unknown' when it names
  // one of our clusters, or none at all.
  const malformed =
    classification?.category === 'unknown' &&
    classification.reason.startsWith('malformed') &&
    ECS_DETAIL_TYPES.has(String(event['detail-type'])) &&
    (scope.cluster === UNKNOWN_CLUSTER || settings.clusters.includes(scope.cluster));

  if (!classification || (!subscribed && !malformed)) {
    const detailType = String(event['detail-type']);
    const why = !subscribed ? `not matched by the subscriptions (${detailType} in cluster ${scope.cluster})` : 'needs no classification';
    const outOfScope = !ECS_DETAIL_TYPES.has(detailType) ? 'detail-type' : !settings.clusters.includes(scope.cluster) ? 'cluster' : undefined;
    if (via === 'sns' && !subscribed && outOfScope) {
      // EventBridge only delivers what the rules match; an SNS topic delivers
      // whatever was published to it, so a wrong detail-type or a foreign
      // cluster there is a routing mistake someone has to see. (An ECS event
      // of our cluster that needs nothing, e.g. steady state, stays DEBUG.)
      logger.warn('Event from SNS ignored: out of scope', { eventId, why, outOfScope, detailType, cluster: scope.cluster });
      count(deps, 'SnsEventIgnored', { Reason: outOfScope });
    } else {
      logger.debug('Event ignored', { eventId, why });
    }
    return { index, outcome: 'ignored', why };
  }

  const { category, severity } = classification;
  // `service` is a reserved Powertools Logger key (it would be dropped from the line), hence ecsService.
  const ctx = {
    eventId,
    cluster: scope.cluster,
    ecsService: scope.service,
    category,
    severity,
    taskArn: scope.taskArn,
    containerInstanceArn: scope.containerInstanceArn,
  };
  if (malformed) {
    logger.warn('Malformed ECS event classified as unknown', { ...ctx, reason: classification.reason });
    count(deps, 'MalformedInput');
  } else if (category === 'unknown') {
    // A wording no rule knows yet: one line with the raw text, so it can be added to the corpus.
    logger.warn('Unclassified stop reason', { ...ctx, rawReason: classification.reason, container: classification.container });
    count(deps, 'Unclassified', { ClusterName: scope.cluster });
  } else {
    logger.info('Classified', { ...ctx, reason: classification.reason, container: classification.container });
  }
  const dimensions = { ClusterName: scope.cluster, ServiceName: scope.service, Category: category };
  count(deps, scope.detailType === 'ECS Task State Change' ? 'StoppedTasks' : 'ClusterEvents', dimensions);

  const outcome: Extract<RecordOutcome, { outcome: 'classified' }> = {
    index,
    outcome: 'classified',
    eventId,
    cluster: scope.cluster,
    service: scope.service,
    category,
    severity,
    malformed,
  };
  // Both paths run even when one fails; the first error then fails the record.
  const results = await Promise.allSettled([
    alertPath(deps, classification, scope, eventId).then((a) => (outcome.alert = a)),
    category === 'image-pull-disk-full' ? cleanupPath(deps, classification, scope).then((c) => (outcome.cleanup = c)) : Promise.resolve(),
  ]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return outcome;
}

// ---------------------------------------------------------------------------
// Alerts

async function alertPath(deps: WatchDeps, c: Classification, scope: Scope, eventId: string): Promise<AlertOutcome> {
  const alerts = deps.settings.alerts;
  if (!alerts.topicArn) return 'no-topic';
  if (!shouldAlert(c, alerts)) return NEVER_ALERT.has(c.category) ? 'never-alerted' : 'below-min-severity';

  const id = alertWindowId(scope.cluster, scope.service, c.category);
  const now = deps.now();
  const sample = sampleOf(c, scope, now);
  // Conditional writes race with the other invocations; each lost race re-reads, and the third loss is an error worth retrying the event for.
  for (let round = 0; round < 3; round++) {
    if ((await deps.alerts.countTracked(id, eventId, sample, now)).ok) return countedInWindow(deps, id);
    const window = await deps.alerts.get(id);
    const decision = decideOnEvent(window, eventId, now);
    if (decision.action === 'duplicate') {
      deps.logger.info('Duplicate delivery: already counted in its alert window', { eventId, window: id });
      count(deps, 'DuplicateEvents');
      return 'duplicate';
    }
    if (decision.action === 'count') {
      if (!decision.tracked && (await deps.alerts.countUntracked(id, eventId, sample, now)).ok) return countedInWindow(deps, id);
      continue;
    }
    const owner = deps.newOwner();
    const windowMs = alerts.windowMinutes * 60_000;
    const opened: AlertWindow = {
      id,
      cluster: scope.cluster,
      service: scope.service,
      isService: scope.isService,
      category: c.category,
      severity: c.severity,
      region: scope.region,
      windowStart: now,
      windowEnd: now + windowMs,
      count: decision.carried + 1,
      carried: decision.carried,
      sent: 0,
      firstSent: false,
      claimOwner: owner,
      claimUntil: now + CLAIM_LEASE_MS,
      claimCount: decision.carried + 1,
      claimKind: 'first',
      failures: 0,
      eventIds: new Set([eventId]),
      version: (window?.version ?? 0) + 1,
      first: sample,
      last: sample,
      expiration: ttlAfter(now + windowMs, WINDOW_RETENTION_S),
    };
    if (!(await deps.alerts.open(opened, decision.expectVersion)).ok) continue;
    return (await send(deps, 'first', opened, owner, opened.count)) ? 'alerted' : 'alert-failed';
  }
  throw new Error(`alert window ${id} kept changing under concurrent writes; the event will be retried`);
}

function countedInWindow(deps: WatchDeps, id: string): AlertOutcome {
  deps.logger.debug('Counted into the running alert window', { window: id });
  count(deps, 'AlertsSuppressed');
  return 'counted';
}

/** One message of one window: the first alert or the summary. */
export const alertIdOf = (window: Pick<AlertWindow, 'id' | 'windowStart'>, kind: MessageKind): string =>
  `${window.id}#${new Date(window.windowStart).toISOString()}#${kind}`;

/**
 * Publishes a claimed message, then confirms it. A failed publish releases the
 * claim (the flush sends it later) instead of failing the event: the event is
 * already counted, and retrying it would only find it a duplicate.
 */
async function send(deps: WatchDeps, kind: MessageKind, window: AlertWindow, owner: string, covers: number): Promise<boolean> {
  const { subject, message } = renderMessage(kind, window, covers, { windowMinutes: deps.settings.alerts.windowMinutes, defaultRegion: deps.region });
  const ctx = { window: window.id, kind, covers, sent: window.sent };
  try {
    await deps.sns.send(
      new PublishCommand({
        TopicArn: deps.settings.alerts.topicArn,
        Subject: subject,
        Message: message,
        // Lets operators route by severity or cluster with subscription filter policies.
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: window.severity },
          category: { DataType: 'String', StringValue: window.category },
          // Event-derived values, cleaned like the body (no control or bidi characters, capped).
          cluster: { DataType: 'String', StringValue: cleanField(window.cluster, ATTRIBUTE_MAX) },
          service: { DataType: 'String', StringValue: cleanField(window.service, ATTRIBUTE_MAX) },
          kind: { DataType: 'String', StringValue: kind },
          // The same for a resend of this message: a Lambda that dies between Publish and the
          // confirm makes the flush send it again (at-least-once), and subscribers can drop the copy.
          alertId: { DataType: 'String', StringValue: cleanField(alertIdOf(window, kind), ATTRIBUTE_MAX) },
        },
      }),
    );
  } catch (error) {
    deps.logger.error('Publishing the alert failed; the scheduled flush will send it again', { ...ctx, error: error as Error });
    count(deps, 'AlertSendFailed');
    const released = await deps.alerts.release(window.id, owner).then(
      (release) => release.ok,
      (releaseError: unknown) => {
        // The claim then simply expires after CLAIM_LEASE_MS.
        deps.logger.warn('Could not release the alert claim', { ...ctx, error: releaseError as Error });
        return false;
      },
    );
    if (!released) deps.logger.warn('Alert claim not released: it will expire', ctx);
    return false;
  }
  count(deps, kind === 'first' ? 'AlertsSent' : 'AlertSummariesSent');
  deps.logger.info(kind === 'first' ? 'Alert sent' : 'Alert summary sent', { ...ctx, subject });
  if (!(await deps.alerts.confirm(window.id, owner, covers)).ok) {
    // A new window replaced this one while we sent; it did not carry these events over, so nothing is lost or repeated.
    deps.logger.warn('Alert window replaced while its message was sent', ctx);
  }
  return true;
}

export interface FlushReport {
  examined: number;
  sent: number;
  failed: number;
  abandoned: number;
}

/** The scheduled flush: sends the summaries of ended windows and the first alerts whose sender died or failed. */
export async function flushAlerts(deps: WatchDeps): Promise<FlushReport> {
  const report: FlushReport = { examined: 0, sent: 0, failed: 0, abandoned: 0 };
  if (!deps.settings.alerts.topicArn) return report;
  for await (const window of deps.alerts.scanPending()) {
    report.examined++;
    const now = deps.now();
    const decision = decideOnFlush(window, now);
    try {
      if (decision.action === 'skip') continue;
      if (decision.action === 'abandon') {
        if ((await deps.alerts.abandon(window.id, window.version, window.count)).ok) {
          report.abandoned++;
          deps.logger.error('Alert dropped: publishing kept failing', { window: window.id, why: decision.why, unsent: window.count - window.sent });
          count(deps, 'AlertsDropped');
        }
        continue;
      }
      const owner = deps.newOwner();
      const claim = { owner, until: now + CLAIM_LEASE_MS, count: decision.covers, kind: decision.kind };
      // Losing this race means another flush or an event took the window: it sends, we do not.
      if (!(await deps.alerts.claim(window.id, window.version, claim)).ok) continue;
      if (await send(deps, decision.kind, { ...window, claimOwner: owner }, owner, decision.covers)) report.sent++;
      else report.failed++;
    } catch (error) {
      report.failed++;
      deps.logger.error('Flushing an alert window failed; the next flush tries again', { window: window.id, error: error as Error });
    }
  }
  if (report.failed > 0) count(deps, 'FlushFailures');
  return report;
}

// ---------------------------------------------------------------------------
// Cleanup hand-off

export const cleanupClaimId = (containerInstanceArn: string): string => `cleanup#${containerInstanceArn}`;

/**
 * A full Docker disk on an EC2 container instance: ask the cleanup function
 * to clean it, at most once per instance per alert window, whatever the number
 * of tasks (or duplicate deliveries) that reveal it.
 */
async function cleanupPath(deps: WatchDeps, c: Classification, scope: Scope): Promise<CleanupOutcome> {
  if (!deps.settings.requestCleanup) return 'disabled';
  const arn = scope.containerInstanceArn;
  if (!arn) return 'not-on-ec2';
  const now = deps.now();
  const windowMs = deps.settings.alerts.windowMinutes * 60_000;
  const id = cleanupClaimId(arn);
  const owner = deps.newOwner();
  const claimed = await claim(
    deps.store,
    { id, owner, state: 'requesting', until: now + windowMs, expiration: ttlAfter(now + windowMs, 3600) },
    { attribute: 'until', now },
  );
  if (!claimed.ok) {
    deps.logger.info('Cleanup already requested for this instance in this window', { containerInstanceArn: arn, cluster: scope.cluster });
    return 'already-requested';
  }
  try {
    const detail: CleanupRequest = {
      cluster: scope.cluster,
      // Task events name only the container instance; the cleanup function resolves it (and checks it is ACTIVE) itself.
      ec2InstanceId: scope.ec2InstanceId,
      containerInstanceArn: arn,
      reason: c.reason.slice(0, CLEANUP_REASON_MAX),
      requestedBy: 'stopped-watch',
    };
    const out = await deps.events.send(
      new PutEventsCommand({
        Entries: [{ Source: CLEANUP_REQUEST_SOURCE, DetailType: CLEANUP_REQUEST_DETAIL_TYPE, Detail: JSON.stringify(detail), Resources: [arn] }],
      }),
    );
    // PutEvents answers 200 with per-entry failures (e.g. ThrottlingException, InternalFailure): they are failures all the same.
    const entry = out.Entries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new Error(
        `PutEvents did not accept the Cleanup Requested event: ${entry?.ErrorCode ?? 'no entry'}${entry?.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`,
      );
    }
    await deps.store.update(id, { set: { state: 'requested', eventId: entry.EventId } }, ownedBy(owner));
    deps.logger.info('Cleanup requested', { ...detail, eventId: entry.EventId });
    count(deps, 'CleanupRequested', { ClusterName: scope.cluster });
    return 'requested';
  } catch (error) {
    // Without the claim the retried event (Lambda's async retry) asks again.
    await releaseItem(deps.store, id, owner).catch(() => false);
    throw error;
  }
}
