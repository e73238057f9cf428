/**
 * The audit digest, pure: which findings it reports, how a set of findings is
 * recognised again on the next run, and its text. No SDK, no clock of its own.
 *
 * The text is for a phone: plain, one finding in three short lines (what,
 * the values seen, the fix), grouped by service, most severe first, with a
 * console link per service; the full report is one command away.
 */
import { createHash } from 'node:crypto';
import type { Service } from '@aws-sdk/client-ecs';
import { sortFindings } from './report.ts';
import { SEVERITIES, severityRank, type Severity } from '../shared/severity.ts';
import { subjectLine } from '../shared/sns-text.ts';
import { ruleDoc, taskDefinitionName, type AuditInput, type Finding } from './rules.ts';

/** Findings listed in one digest; the rest are counted and left to the full report, so one message stays readable. */
export const DIGEST_LISTED_MAX = 30;
const TEXT_MAX = 280;

export const atOrAbove = (f: Finding, min: Severity): boolean => severityRank(f.severity) >= severityRank(min);

/**
 * A finding's identity from one run to the next. The task definition revision
 * is left out: every deployment registers a new one, and the same trap in
 * revision 13 is the finding already reported for revision 12.
 */
export function findingKey(f: Finding): string {
  const resource = f.resource.replace(/^(taskDefinition:[^:#]+):\d+/, '$1');
  return `${f.rule}|${resource}|${f.location?.path ?? ''}`;
}

/** 16 hex digits of SHA-256 over the sorted, distinct entries: equal sets, equal hashes. */
export function setHash(entries: Iterable<string>): string {
  return createHash('sha256')
    .update([...new Set(entries)].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/** The state key of a service: `<cluster>/<service name>`. */
export const serviceKey = (cluster: string, service: string): string => `${cluster}/${service}`;

const serviceNameOf = (s: Service): string => s.serviceName ?? s.serviceArn?.split('/').pop() ?? 'unknown';

export interface ServiceFindings {
  service: string;
  findings: Finding[];
}

/**
 * Findings by the service they concern: its own settings, the task definition
 * it runs, the target groups it registers with. A task definition or target
 * group shared by several services is reported under each.
 */
export function byService(input: AuditInput, findings: readonly Finding[]): { services: ServiceFindings[]; other: Finding[] } {
  const services = (input.services ?? []).map((s) => {
    const td = input.taskDefinitions.find((t) => t.taskDefinitionArn === s.taskDefinition);
    const tdName = td ? taskDefinitionName(td) : undefined;
    const targetGroups = new Set((s.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a));
    const mine = findings.filter(
      (f) =>
        f.resource === s.serviceArn || (tdName !== undefined && (f.resource === tdName || f.resource.startsWith(`${tdName}#`))) || targetGroups.has(f.resource),
    );
    return { service: serviceNameOf(s), findings: mine };
  });
  const attached = new Set(services.flatMap((s) => s.findings));
  return { services: services.filter((s) => s.findings.length > 0), other: findings.filter((f) => !attached.has(f)) };
}

/** One cluster's audit, or why it could not be done. */
export interface ClusterAudit {
  cluster: string;
  input?: AuditInput;
  findings: Finding[];
  error?: string;
}

/** A short id of a finding's key, for the digest state: 48 bits, so ids of one service never collide in practice. */
export const findingId = (f: Finding): string => createHash('sha256').update(findingKey(f)).digest('hex').slice(0, 12);

/**
 * What a digest reports, per service with findings at or above the
 * threshold: `<cluster>/<service>` → the sorted ids of its findings.
 * Findings no service claims go under `<cluster>/`.
 */
export function serviceFindingIds(audit: ClusterAudit, minSeverity: Severity): Record<string, string[]> {
  if (!audit.input) return {};
  const alertable = audit.findings.filter((f) => atOrAbove(f, minSeverity));
  const { services, other } = byService(audit.input, alertable);
  const out: Record<string, string[]> = {};
  const ids = (findings: Finding[]) => [...new Set(findings.map(findingId))].sort();
  for (const s of services) out[serviceKey(audit.cluster, s.service)] = ids(s.findings);
  if (other.length > 0) out[serviceKey(audit.cluster, '')] = ids(other);
  return out;
}

/** One hash for a whole state, to tell at a glance whether two states differ. */
export const stateHash = (services: Readonly<Record<string, readonly string[]>>): string =>
  setHash(Object.entries(services).flatMap(([key, ids]) => ids.map((id) => `${key}=${id}`)));

// ---------------------------------------------------------------------------
// Text

export type DigestTrigger =
  | { kind: 'schedule'; time: string }
  | { kind: 'deployment'; time: string; cluster: string; service: string; eventName: string; deploymentId: string };

export interface DigestContext {
  region: string;
  minSeverity: Severity;
  trigger: DigestTrigger;
  /** Service keys with findings the last digest did not report. */
  changed: ReadonlySet<string>;
}

export interface DigestMessage {
  subject: string;
  message: string;
  /** SNS message attributes, for subscription filter policies. */
  attributes: Record<string, string>;
}

const clip = (s: string, max = TEXT_MAX): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const utc = (iso: string): string => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Where in the service the finding is, when it is not the service's own setting. */
function placeOf(f: Finding): string | undefined {
  const td = /^taskDefinition:([^#]+)(?:#container:(.+))?$/.exec(f.resource);
  if (td) return `task definition ${td[1]}${td[2] ? `, container ${td[2]}` : ''}`;
  const tg = /:targetgroup\/([^/]+)\//.exec(f.resource);
  if (tg) return `target group ${tg[1]}`;
  return undefined;
}

const serviceLink = (region: string, cluster: string, service: string): string =>
  `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(cluster)}/services/${encodeURIComponent(service)}/health?region=${region}`;

/**
 * The digest of one run: the findings at or above the threshold of every
 * audited cluster (or of the one deployed service), counts of the others,
 * and the clusters that could not be audited.
 */
export function renderDigest(audits: readonly ClusterAudit[], ctx: DigestContext): DigestMessage {
  const { region, minSeverity, trigger } = ctx;
  const done = audits.filter((a) => a.input);
  const alertable = done.flatMap((a) => a.findings.filter((f) => atOrAbove(f, minSeverity)));
  const below = done.flatMap((a) => a.findings.filter((f) => !atOrAbove(f, minSeverity)));
  const top = sortFindings(alertable)[0]?.severity ?? minSeverity;
  const clusters = done.map((a) => a.cluster);

  const groups = done.flatMap((a) => {
    const { services, other } = byService(
      a.input!,
      a.findings.filter((f) => atOrAbove(f, minSeverity)),
    );
    return [
      ...services.map((s) => ({ cluster: a.cluster, service: s.service, findings: sortFindings(s.findings) })),
      ...(other.length ? [{ cluster: a.cluster, service: '', findings: sortFindings(other) }] : []),
    ];
  });
  // Most severe service first, then by name: the one to look at is at the top of the screen.
  groups.sort(
    (x, y) =>
      severityRank(y.findings[0]!.severity) - severityRank(x.findings[0]!.severity) ||
      (serviceKey(x.cluster, x.service) < serviceKey(y.cluster, y.service) ? -1 : 1),
  );

  const lines: string[] = [];
  const serviceCount = plural(groups.filter((g) => g.service !== '').length, 'service');
  if (trigger.kind === 'deployment') {
    const outcome = trigger.eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'failed' : 'completed';
    lines.push(
      `Deployment ${trigger.deploymentId} of ${trigger.cluster}/${trigger.service} ${outcome}. The service now has ${plural(alertable.length, 'finding')} at or above ${minSeverity}.`,
    );
  } else {
    lines.push(
      `ECS audit of ${clusters.join(', ') || 'no cluster'} (${region}): ${plural(alertable.length, 'finding')} at or above ${minSeverity}, in ${serviceCount}.`,
    );
    const changed = groups.filter((g) => ctx.changed.has(serviceKey(g.cluster, g.service))).length;
    if (changed > 0) lines.push(`${plural(changed, 'service has', 'services have')} findings the last digest did not report (marked NEW).`);
  }

  // A finding of a shared task definition or target group appears under each of its services, but counts once.
  let listed = 0;
  const shown = new Set<Finding>();
  for (const g of groups) {
    if (listed >= DIGEST_LISTED_MAX) break;
    const isNew = trigger.kind === 'schedule' && ctx.changed.has(serviceKey(g.cluster, g.service));
    lines.push('', `${g.service ? `${g.cluster}/${g.service}` : `${g.cluster}, no service`}${isNew ? ' NEW' : ''}`);
    for (const f of g.findings) {
      if (listed >= DIGEST_LISTED_MAX) break;
      listed++;
      shown.add(f);
      lines.push(`- ${f.severity.toUpperCase()} ${f.rule}: ${ruleDoc(f.rule).title}`);
      const place = placeOf(f);
      if (place) lines.push(`  In ${place}`);
      lines.push(`  Seen: ${clip(f.evidence)}`, `  Fix: ${clip(f.fix)}`);
    }
    if (g.service) lines.push(`  ${serviceLink(region, g.cluster, g.service)}`);
  }
  if (alertable.length > shown.size) lines.push('', `…and ${alertable.length - shown.size} more at or above ${minSeverity}, in the full report.`);

  const belowCounts = [...SEVERITIES]
    .reverse()
    .map((s) => [s, below.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  lines.push('');
  if (belowCounts.length > 0) lines.push(`Below ${minSeverity}, not listed: ${belowCounts.join(', ')}.`);
  for (const a of audits.filter((x) => x.error)) lines.push(`Could not audit cluster ${a.cluster}: ${clip(a.error!)}`);
  const scope =
    trigger.kind === 'deployment'
      ? `--cluster ${trigger.cluster} --service ${trigger.service}`
      : `--cluster ${clusters[0] ?? audits[0]?.cluster ?? '<cluster>'}`;
  lines.push(`Full report: npx ecs-caretaker audit ${scope} --region ${region}`);
  lines.push('Each fix has a trade-off, listed by: npx ecs-caretaker audit --list-rules');
  lines.push(
    '',
    trigger.kind === 'deployment'
      ? `-- ecs-caretaker audit after ${trigger.eventName} at ${utc(trigger.time)}`
      : `-- ecs-caretaker audit, scheduled run at ${utc(trigger.time)}`,
  );

  const where =
    trigger.kind === 'deployment' ? `${trigger.cluster}/${trigger.service}` : clusters.length <= 2 ? clusters.join(', ') : `${clusters.length} clusters`;
  const subject = subjectLine(
    `ECS audit ${top.toUpperCase()}: ${plural(alertable.length, 'finding')}${trigger.kind === 'deployment' ? ' after deploy' : ''} - ${where}`,
  );
  const attributes: Record<string, string> = { kind: 'audit-digest', severity: top };
  if (clusters.length === 1) attributes.cluster = clusters[0]!;
  if (trigger.kind === 'deployment') attributes.service = trigger.service;
  return { subject, message: lines.join('\n'), attributes };
}
