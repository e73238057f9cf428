/**
 * One audit run of the Lambda: read the clusters (or the one deployed
 * service), run the rules, publish the findings as metrics, and send one
 * digest when findings at or above alerts.minSeverity are new or changed
 * since the last digest.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricName } from '../shared/metric-names.ts';
import type { Store } from '../shared/store.ts';
import { atOrAbove, renderDigest, serviceFindingIds, serviceKey, stateHash, type ClusterAudit, type DigestContext, type DigestMessage } from './digest.ts';
import {
  claimDigest,
  confirmDigest,
  liveClaim,
  readDigest,
  recordQuietly,
  releaseDigest,
  SCHEDULED_DIGEST_ID,
  serviceDigestId,
  type DigestRecord,
  type DigestState,
} from './digest-state.ts';
import type { AuditInvocation } from './input.ts';
import { collectLive, LiveAuditError, type Elbv2Reader } from './live.ts';
import { audit, RULES } from './rules.ts';
import type { AuditSettings } from './settings.ts';

export interface AuditDeps {
  ecs: ECSClient;
  elbv2: Elbv2Reader;
  sns: SNSClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  settings: AuditSettings;
  /** The function's region: the clusters' region, for console links. */
  region: string;
  /** A fresh owner id for each claim, so a claim is confirmed or released only by whoever took it. */
  newOwner: () => string;
}

export type DigestOutcome =
  /** Published to alerts.topicArn. */
  | 'sent'
  /** No finding at or above the threshold is new or changed since the last digest, or another run is sending this digest. */
  | 'unchanged'
  /** No finding at or above the threshold. */
  | 'nothing-to-report'
  /** alerts.topicArn is not configured: metrics only. */
  | 'no-topic'
  /** Other runs kept writing the digest record; this one gave up sending. */
  | 'contended'
  /** Nothing could be audited, so there is nothing to compare: the last digest stays the baseline. */
  | 'not-audited';

export interface AuditReport {
  trigger: AuditInvocation['kind'];
  clusters: Array<{ cluster: string; services: number; findings: number; alertable: number; error?: string }>;
  digest: DigestOutcome | 'out-of-scope';
  messageId?: string;
}

/** Some clusters could not be audited; what could be audited was published and digested first. */
export class AuditRunError extends Error {
  override name = 'AuditRunError';
}

const CLAIM_ATTEMPTS = 3;
const OUTCOME_METRICS: Partial<Record<DigestOutcome, MetricName>> = { sent: 'DigestsSent', unchanged: 'DigestsUnchanged', contended: 'DigestsContended' };

export async function runAudit(deps: AuditDeps, invocation: AuditInvocation): Promise<AuditReport> {
  const { settings, logger } = deps;
  if (invocation.kind === 'deployment' && !settings.clusters.includes(invocation.cluster)) {
    // The rule only selects configured clusters; this arrived another way, or the configuration changed since.
    logger.warn('Deployment of a cluster that is not configured: not audited', {
      cluster: invocation.cluster,
      service: invocation.service,
      eventId: invocation.eventId,
    });
    deps.metrics.addMetric('OutOfScopeEvents', MetricUnit.Count, 1);
    return { trigger: invocation.kind, clusters: [], digest: 'out-of-scope' };
  }

  const scopes =
    invocation.kind === 'schedule'
      ? settings.clusters.map((cluster) => ({ cluster, services: [] as string[] }))
      : [{ cluster: invocation.cluster, services: [invocation.serviceArn] }];
  const audits: ClusterAudit[] = [];
  for (const scope of scopes) {
    try {
      const { input, notes } = await collectLive({ ecs: deps.ecs, elbv2: deps.elbv2 }, scope);
      for (const note of notes) logger.info('Audit note', { cluster: scope.cluster, note });
      audits.push({ cluster: scope.cluster, input, findings: audit(input) });
    } catch (error) {
      if (!(error instanceof LiveAuditError)) throw error;
      logger.error('Cluster not audited', { cluster: scope.cluster, error: error.message });
      audits.push({ cluster: scope.cluster, findings: [], error: error.message });
    }
  }

  publishMetrics(deps, invocation, audits);
  const { outcome, messageId } = await digest(deps, invocation, audits);
  const counted = OUTCOME_METRICS[outcome];
  if (counted) deps.metrics.addMetric(counted, MetricUnit.Count, 1);

  const report: AuditReport = {
    trigger: invocation.kind,
    clusters: audits.map((a) => ({
      cluster: a.cluster,
      services: a.input?.services?.length ?? 0,
      findings: a.findings.length,
      alertable: a.findings.filter((f) => atOrAbove(f, settings.alerts.minSeverity)).length,
      ...(a.error ? { error: a.error } : {}),
    })),
    digest: outcome,
    ...(messageId ? { messageId } : {}),
  };
  logger.info('Audit done', { ...report });
  const failed = audits.filter((a) => a.error);
  // Failing the invocation makes Lambda retry it and, at last, park it in the DLQ, whose alarm tells the operator.
  if (failed.length > 0) throw new AuditRunError(`Could not audit ${failed.map((a) => `cluster ${a.cluster} (${a.error})`).join('; ')}`);
  return report;
}

/**
 * AuditFindings per cluster, rule and severity: 16 rules × the configured
 * clusters, whatever the number of services. A scheduled run counts the
 * whole cluster and publishes zeros too, so each rule has a value every day;
 * a deployment run counts its one service and publishes only what it found.
 */
function publishMetrics(deps: AuditDeps, invocation: AuditInvocation, audits: readonly ClusterAudit[]): void {
  for (const a of audits) {
    if (a.error) {
      const failed = deps.metrics.singleMetric();
      failed.addDimension('ClusterName', a.cluster);
      failed.addMetric('ClusterAuditFailed', MetricUnit.Count, 1);
      continue;
    }
    deps.metrics.addMetric('ServicesAudited', MetricUnit.Count, a.input?.services?.length ?? 0);
    for (const rule of RULES) {
      const count = a.findings.filter((f) => f.rule === rule.id).length;
      if (count === 0 && invocation.kind === 'deployment') continue;
      const single = deps.metrics.singleMetric();
      single.addDimensions({ ClusterName: a.cluster, Rule: rule.id, Severity: rule.severity });
      single.addMetric('AuditFindings', MetricUnit.Count, count);
    }
  }
}

interface Decision {
  id: string;
  read: DigestRecord | undefined;
  state: DigestState;
  /** Service keys with findings the last digest did not report. */
  changed: Set<string>;
  alertable: number;
}

async function digest(deps: AuditDeps, invocation: AuditInvocation, audits: readonly ClusterAudit[]): Promise<{ outcome: DigestOutcome; messageId?: string }> {
  const { topicArn, minSeverity } = deps.settings.alerts;
  if (!topicArn) return { outcome: 'no-topic' };
  if (audits.every((a) => a.error)) return { outcome: 'not-audited' };
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const now = deps.now();
    const decision = invocation.kind === 'schedule' ? await decideScheduled(deps, audits, now) : await decideDeployment(deps, invocation, audits[0]!, now);
    const { id, read, state, changed, alertable } = decision;
    const claim = liveClaim(read, now);

    if (changed.size === 0 || claim?.hash === state.hash) {
      // Nothing new to send; a fixed finding still leaves the baseline, so that its return is new again.
      if ((read?.sent?.hash ?? EMPTY) !== state.hash && claim?.hash !== state.hash) {
        if (!(await recordQuietly(deps.store, id, read, state, now)).ok) continue;
      }
      return { outcome: alertable === 0 ? 'nothing-to-report' : 'unchanged' };
    }

    const taken = await claimDigest(deps.store, id, read, state, deps.newOwner(), now);
    if (!taken.ok) continue;
    const claimed = taken.item;
    const trigger: DigestContext['trigger'] =
      invocation.kind === 'schedule'
        ? { kind: 'schedule', time: invocation.time }
        : {
            kind: 'deployment',
            time: invocation.time,
            cluster: invocation.cluster,
            service: invocation.service,
            eventName: invocation.eventName,
            deploymentId: invocation.deploymentId,
          };
    const message = renderDigest(audits, { region: deps.region, minSeverity, trigger, changed });
    let messageId: string | undefined;
    try {
      messageId = await publish(deps.sns, topicArn, message);
    } catch (error) {
      await releaseDigest(deps.store, claimed, deps.now()).catch((release) =>
        deps.logger.error('Digest claim not released: it expires with its lease', { error: release as Error, id }),
      );
      throw error;
    }
    if (!(await confirmDigest(deps.store, claimed, messageId, deps.now())).ok) {
      deps.logger.warn('Digest sent, but another run wrote its record meanwhile', { id, messageId });
    }
    deps.logger.info('Digest sent', { id, messageId, subject: message.subject, changed: [...changed] });
    return { outcome: 'sent', messageId };
  }
  deps.logger.warn('Digest not sent: its record kept changing under this run', { attempts: CLAIM_ATTEMPTS });
  return { outcome: 'contended' };
}

/** The state of "no finding at or above the threshold". */
const EMPTY = stateHash({});

/** Keys of `now` with an id that `before` lacks; without a map to compare (too large to keep), every key of a differing state. */
function newFindings(now: Readonly<Record<string, readonly string[]>>, before: DigestState | undefined): Set<string> {
  const keys = Object.keys(now);
  if (before && !before.services) return new Set(before.hash === stateHash(now) ? [] : keys);
  return new Set(keys.filter((key) => now[key]!.some((id) => !before?.services?.[key]?.includes(id))));
}

/**
 * The scheduled digest compares each service with the last scheduled digest.
 * A cluster that could not be audited keeps its last known state, so a
 * passing AccessDenied does not read as "everything fixed" and then as new.
 */
async function decideScheduled(deps: AuditDeps, audits: readonly ClusterAudit[], now: number): Promise<Decision> {
  const { minSeverity } = deps.settings.alerts;
  const read = await readDigest(deps.store, SCHEDULED_DIGEST_ID, now);
  const services: Record<string, string[]> = {};
  for (const a of audits) {
    if (a.error) {
      for (const [key, ids] of Object.entries(read?.sent?.services ?? {})) if (key.startsWith(`${a.cluster}/`)) services[key] = ids;
    } else {
      Object.assign(services, serviceFindingIds(a, minSeverity));
    }
  }
  const alertable = audits.reduce((n, a) => n + a.findings.filter((f) => atOrAbove(f, minSeverity)).length, 0);
  return { id: SCHEDULED_DIGEST_ID, read, state: { hash: stateHash(services), services, at: now }, changed: newFindings(services, read?.sent), alertable };
}

/**
 * A deployment digest compares the service with whichever reported it last:
 * its own last deployment digest, or the last scheduled digest. So the first
 * deployment after a daily digest stays quiet unless it brought something new.
 */
async function decideDeployment(
  deps: AuditDeps,
  invocation: Extract<AuditInvocation, { kind: 'deployment' }>,
  a: ClusterAudit,
  now: number,
): Promise<Decision> {
  const { minSeverity } = deps.settings.alerts;
  const id = serviceDigestId(invocation.cluster, invocation.service);
  const key = serviceKey(invocation.cluster, invocation.service);
  const [read, scheduled] = await Promise.all([readDigest(deps.store, id, now), readDigest(deps.store, SCHEDULED_DIGEST_ID, now)]);
  // Everything a one-service input holds is the service's own (settings, task definition, target groups).
  const ids = Object.values(serviceFindingIds(a, minSeverity)).flat();
  const services: Record<string, string[]> = ids.length > 0 ? { [key]: [...new Set(ids)].sort() } : {};
  const candidates = [
    read?.sent,
    scheduled?.sent?.services ? { hash: '', services: { [key]: scheduled.sent.services[key] ?? [] }, at: scheduled.sent.at } : undefined,
  ];
  const baseline = candidates.filter((s): s is DigestState => s !== undefined).sort((x, y) => y.at - x.at)[0];
  const alertable = a.findings.filter((f) => atOrAbove(f, minSeverity)).length;
  return {
    id,
    read,
    state: { hash: stateHash(services), services, at: now },
    changed: newFindings(services, baseline && { ...baseline, services: baseline.services ?? {} }),
    alertable,
  };
}

async function publish(sns: SNSClient, topicArn: string, message: DigestMessage): Promise<string | undefined> {
  const out = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: message.subject,
      Message: message.message,
      MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
    }),
  );
  return out.MessageId;
}
