/**
 * Alert decisions and alert text, pure: no SDK, no clock of its own.
 *
 * One alert window per (cluster, service, category), kept as one DynamoDB
 * record. The first event of a window is alerted at once; the later ones are
 * counted, and once the window has ended the scheduled flush sends one summary
 * for them. Every message is first *claimed* on the record (a conditional
 * write), then published, then confirmed, so concurrent invocations and
 * flushes never send the same message twice, and a message whose sender died
 * is sent again by the next flush once the claim's lease has run out.
 */
import { severityRank, type Severity } from '../shared/severity.ts';
import { capped, subjectLine } from '../shared/sns-text.ts';
import type { Category, Classification } from './classify.ts';
import type { Scope } from './scope.ts';
import { resourceId } from './scope.ts';
import type { StoppedWatchSettings } from './settings.ts';

/** Nobody has to act on these, whatever minSeverity says. */
export const NEVER_ALERT: ReadonlySet<Category> = new Set<Category>(['deployment-benign', 'user-stop']);

/**
 * A claim outlives the invocation that took it (Lambda timeout 30 s, see
 * infra), so a live sender is never overtaken, and a dead one is replaced by
 * the flush a minute or two later.
 */
export const CLAIM_LEASE_MS = 90_000;
/** After this many failed publishes of one message it is dropped (and logged), so a broken topic cannot make every flush fail for a day. */
export const MAX_SEND_FAILURES = 5;
/**
 * Event ids kept per window to recognise duplicate deliveries. A uuid costs
 * ~40 bytes, so the record stays near 20 KB, far from DynamoDB's 400 KB item
 * limit; beyond it, events are still counted but duplicates no longer
 * recognised, which can only inflate a summary's count.
 */
export const TRACKED_IDS_MAX = 500;
/** Records outlive their window by a day so a late duplicate still finds its window. */
export const WINDOW_RETENTION_S = 86_400;

export const ALERT_PREFIX = 'alert#';

export function shouldAlert(c: Classification, alerts: StoppedWatchSettings['alerts']): boolean {
  if (!alerts.topicArn || NEVER_ALERT.has(c.category)) return false;
  return severityRank(c.severity) >= severityRank(alerts.minSeverity);
}

export const alertWindowId = (cluster: string, service: string, category: Category): string => `${ALERT_PREFIX}${cluster}#${service}#${category}`;

/** What the alert says about one event; the first and the latest event of a window are kept. */
export interface AlertSample {
  at: number;
  reason: string;
  hint?: string;
  container?: string;
  eventId?: string;
  taskArn?: string;
  containerInstanceArn?: string;
  ec2InstanceId?: string;
  deploymentId?: string;
  detailType?: string;
}

export type MessageKind = 'first' | 'summary';

export interface AlertWindow {
  id: string;
  cluster: string;
  service: string;
  isService: boolean;
  category: Category;
  severity: Severity;
  region?: string;
  windowStart: number;
  windowEnd: number;
  /** Events in this window, including `carried`. */
  count: number;
  /** Events of the previous window that had not been summarised when this one opened; the first alert reports them. */
  carried: number;
  /** Events covered by messages confirmed sent. */
  sent: number;
  firstSent: boolean;
  claimOwner?: string;
  claimUntil?: number;
  /** `count` when the claim was taken: what the message being sent covers. */
  claimCount?: number;
  claimKind?: MessageKind;
  failures: number;
  eventIds?: Set<string>;
  /** Bumped by every write: replacing or claiming a window is conditional on the version that was read. */
  version: number;
  first: AlertSample;
  last: AlertSample;
  expiration: number;
}

export function sampleOf(c: Classification, scope: Scope, now: number): AlertSample {
  return {
    at: now,
    reason: c.reason,
    hint: c.hint,
    container: c.container,
    eventId: scope.eventId,
    taskArn: scope.taskArn,
    containerInstanceArn: scope.containerInstanceArn,
    ec2InstanceId: scope.ec2InstanceId,
    deploymentId: scope.deploymentId,
    detailType: scope.detailType,
  };
}

const claimActive = (w: AlertWindow, now: number): boolean => w.claimOwner !== undefined && (w.claimUntil ?? 0) > now;
const expired = (w: AlertWindow, now: number): boolean => w.expiration * 1000 <= now;

// ---------------------------------------------------------------------------
// Decisions

export type EventDecision =
  /** Start a new window and alert now. `expectVersion` undefined: the record must not exist. */
  | { action: 'open'; carried: number; expectVersion?: number }
  /** Count into the running window. `tracked`: the id can still be remembered. */
  | { action: 'count'; tracked: boolean }
  | { action: 'duplicate' };

/** What to do with one event, given the window record as read (undefined: none). */
export function decideOnEvent(window: AlertWindow | undefined, eventId: string, now: number): EventDecision {
  if (window === undefined) return { action: 'open', carried: 0 };
  if (expired(window, now)) return { action: 'open', carried: 0, expectVersion: window.version };
  if (window.windowEnd > now) {
    if (window.eventIds?.has(eventId)) return { action: 'duplicate' };
    return { action: 'count', tracked: (window.eventIds?.size ?? 0) < TRACKED_IDS_MAX };
  }
  // The window is over. Its unsent events go into the new first alert, except
  // those a live claim is sending right now.
  const covered = claimActive(window, now) ? Math.max(window.sent, window.claimCount ?? 0) : window.sent;
  return { action: 'open', carried: Math.max(0, window.count - covered), expectVersion: window.version };
}

export type FlushDecision = { action: 'send'; kind: MessageKind; covers: number } | { action: 'abandon'; why: string } | { action: 'skip'; why: string };

/** What the scheduled flush does with one window record. */
export function decideOnFlush(window: AlertWindow, now: number): FlushDecision {
  if (expired(window, now)) return { action: 'skip', why: 'expired' };
  if (claimActive(window, now)) return { action: 'skip', why: 'a message is being sent' };
  if (window.failures >= MAX_SEND_FAILURES) return { action: 'abandon', why: `${window.failures} failed attempts to publish` };
  // The opener died or failed to publish: the first alert is still owed, window over or not.
  if (!window.firstSent) return { action: 'send', kind: 'first', covers: window.count };
  if (window.windowEnd <= now && window.count > window.sent) return { action: 'send', kind: 'summary', covers: window.count };
  return { action: 'skip', why: window.windowEnd > now ? 'window still open' : 'nothing pending' };
}

// ---------------------------------------------------------------------------
// Text

const LABELS: Readonly<Record<Category, string>> = {
  oom: 'Out of memory',
  'essential-exit': 'Essential container exited',
  'exec-format': 'Cannot execute the image (exec format)',
  'health-check-container': 'Container health check failed',
  'health-check-elb': 'Load balancer health check failed',
  'image-pull-auth': 'Image pull denied',
  'image-pull-not-found': 'Image not found',
  'image-pull-network': 'Image pull network error',
  'image-pull-rate-limit': 'Image pull rate-limited',
  'image-pull-platform': 'Image platform mismatch',
  'image-pull-disk-full': 'Image pull: instance disk full',
  'image-pull-unknown': 'Image pull failed',
  'container-create-error': 'Container could not be created',
  'container-start-error': 'Container could not start',
  'resource-init-secrets': 'Secrets could not be fetched',
  'resource-init-network': 'Task network setup failed',
  'resource-init-efs': 'EFS mount failed',
  'resource-init-logging': 'Log driver failed',
  'resource-init-other': 'Task resources could not be initialised',
  'command-not-found': 'Container command not found',
  'task-failed-to-start': 'Task failed to start',
  placement: 'Tasks cannot be placed',
  spot: 'Spot capacity reclaimed',
  maintenance: 'AWS maintenance',
  'host-terminated': 'Host instance terminated',
  agent: 'ECS agent problem',
  'deployment-benign': 'Deployment replaced tasks',
  'deployment-failed': 'Deployment failed',
  'deployment-rollback': 'Deployment rolled back',
  'user-stop': 'Stopped by a user',
  autoscaling: 'Auto scaling',
  unknown: 'Unrecognised stop reason',
};

export const categoryLabel = (category: Category): string => LABELS[category];

export interface AlertMessage {
  subject: string;
  message: string;
}

/**
 * Characters that can hide, reorder or fake what an operator reads: C0/C1
 * controls (NUL, ESC, CR…), the bidi embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069, U+061C), zero-width characters and the
 * Unicode line separators. Anyone allowed ecs:StopTask writes stoppedReason,
 * so every field copied from an event goes through {@link cleanField}.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are stripped.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g;
/** Longest event-derived field in an alert body; SNS allows 256 KB, a person reads far less. */
export const FIELD_MAX = 1000;
/** SNS message attribute values that come from events are capped at this. */
export const ATTRIBUTE_MAX = 256;

/** One event-derived field made safe to show: unsafe characters become one space, and the length is capped. */
export function cleanField(text: string, max = FIELD_MAX): string {
  const clean = text.replace(UNSAFE_CHARS, ' ').replace(/ {2,}/g, ' ').trim();
  return capped(clean, max);
}

/** The sample with every field that came from an event cleaned. */
function safeSample(s: AlertSample): AlertSample {
  const opt = (v: string | undefined, max = ATTRIBUTE_MAX): string | undefined => (v === undefined ? undefined : cleanField(v, max));
  return {
    ...s,
    reason: cleanField(s.reason),
    hint: s.hint === undefined ? undefined : cleanField(s.hint, 2 * FIELD_MAX),
    container: opt(s.container),
    eventId: opt(s.eventId),
    taskArn: opt(s.taskArn),
    containerInstanceArn: opt(s.containerInstanceArn),
    ec2InstanceId: opt(s.ec2InstanceId),
    deploymentId: opt(s.deploymentId),
  };
}

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** What the window is about, as a noun for "N more <noun>". */
function noun(w: AlertWindow, n: number): string {
  switch (w.first.detailType) {
    case 'ECS Service Action':
      return plural(n, 'service event');
    case 'ECS Deployment State Change':
      return plural(n, 'deployment event');
    case 'ECS Container Instance State Change':
      return plural(n, 'agent disconnection');
    default:
      return plural(n, 'task stop', 'task stops');
  }
}

function where(w: AlertWindow, region: string): string {
  const name = cleanField(w.service, ATTRIBUTE_MAX);
  const service = w.isService ? `service ${name}` : w.service === 'container-instance' ? 'container instances' : `${name} (no service)`;
  return `cluster ${cleanField(w.cluster, ATTRIBUTE_MAX)}, ${service}, ${cleanField(region, 64)}`;
}

function what(s: AlertSample): string | undefined {
  const container = s.container ? ` (container ${s.container})` : '';
  if (s.taskArn) return `task ${resourceId(s.taskArn)}${container}${s.ec2InstanceId ? ` on ${s.ec2InstanceId}` : ''}`;
  if (s.deploymentId) return `deployment ${s.deploymentId}`;
  if (s.ec2InstanceId || s.containerInstanceArn) return `container instance ${s.ec2InstanceId ?? resourceId(s.containerInstanceArn!)}`;
  return undefined;
}

/** ECS console (v2) pages; the region is in the host and the query so the link opens in the right region. */
export function consoleLinks(w: AlertWindow, s: AlertSample, region: string): string[] {
  const base = `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(w.cluster)}`;
  const q = `?region=${region}`;
  const links: string[] = [];
  if (w.isService) {
    const page = s.detailType === 'ECS Deployment State Change' ? 'deployments' : 'health';
    links.push(`Service: ${base}/services/${encodeURIComponent(w.service)}/${page}${q}`);
  }
  if (s.taskArn) links.push(`Task: ${base}/tasks/${encodeURIComponent(resourceId(s.taskArn))}/configuration${q}`);
  if (s.ec2InstanceId)
    links.push(`Instance: https://${region}.console.aws.amazon.com/ec2/home${q}#InstanceDetails:instanceId=${encodeURIComponent(s.ec2InstanceId)}`);
  if (links.length === 0) links.push(`Cluster: ${base}/services${q}`);
  return links;
}

export interface MessageContext {
  windowMinutes: number;
  /** AWS_REGION of the function: used when the event did not say. */
  defaultRegion: string;
}

/** The text of a claimed message. `covers` is the window's count when it was claimed. */
export function renderMessage(kind: MessageKind, w: AlertWindow, covers: number, ctx: MessageContext): AlertMessage {
  const region = w.region ?? ctx.defaultRegion;
  const label = categoryLabel(w.category);
  const sev = w.severity.toUpperCase();
  const lines: string[] = [];

  if (kind === 'first') {
    const sample = safeSample(w.first);
    const fresh = covers - w.carried;
    lines.push(`${label} (${w.category}), severity ${w.severity}.`, '');
    lines.push(`Where: ${where(w, region)}`);
    const subjectOfSample = what(sample);
    if (subjectOfSample) lines.push(`What: ${subjectOfSample}`);
    const howMany = fresh <= 1 ? `How many: 1 at ${hhmm(w.windowStart)} UTC` : `How many: ${noun(w, fresh)} since ${hhmm(w.windowStart)} UTC`;
    lines.push(w.carried > 0 ? `${howMany}, plus ${w.carried} earlier not yet reported.` : `${howMany}.`);
    lines.push(`More within ${ctx.windowMinutes} min are counted and sent as one summary.`);
    lines.push(`Reason: ${sample.reason}`);
    if (sample.hint) lines.push('', `Fix: ${sample.hint}`);
    lines.push('', ...consoleLinks(w, sample, region));
    lines.push('', `-- ecs-caretaker stopped-watch${sample.eventId ? `, event ${sample.eventId}` : ''}`);
    const count = covers > 1 ? ` x${covers}` : '';
    return { subject: subjectLine(`ECS ${sev}: ${label}${count} - ${w.cluster}/${w.service}`), message: lines.join('\n') };
  }

  const more = covers - w.sent;
  const sample = safeSample(w.last);
  lines.push(`${noun(w, more).replace(/^\d+ /, `${more} more `)} in the last ${ctx.windowMinutes} min: ${label} (${w.category}), severity ${w.severity}.`, '');
  lines.push(`Where: ${where(w, region)}`);
  lines.push(`When: ${hhmm(w.windowStart)} to ${hhmm(w.windowEnd)} UTC, ${covers} in all since the first alert.`);
  const latest = what(sample);
  lines.push(`Latest: ${latest ? `${latest} at ${hhmm(sample.at)} UTC: ` : ''}${sample.reason}`);
  if (sample.hint) lines.push('', `Fix: ${sample.hint}`);
  lines.push('', ...consoleLinks(w, sample, region));
  lines.push('', '-- ecs-caretaker stopped-watch summary');
  return { subject: subjectLine(`ECS ${sev}: ${more} more ${label} in ${ctx.windowMinutes} min - ${w.cluster}/${w.service}`), message: lines.join('\n') };
}
