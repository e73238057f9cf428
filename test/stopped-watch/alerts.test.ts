import { describe, expect, it } from 'vitest';
import {
  alertWindowId,
  CLAIM_LEASE_MS,
  categoryLabel,
  consoleLinks,
  decideOnEvent,
  decideOnFlush,
  MAX_SEND_FAILURES,
  renderMessage,
  shouldAlert,
  TRACKED_IDS_MAX,
  type AlertWindow,
} from '../../functions/stopped-watch/alerts.ts';
import { SUBJECT_MAX, subjectLine } from '../../functions/shared/sns-text.ts';
import { CATEGORIES, HINTS, SEVERITY, classifyEvent, type Category, type Classification } from '../../functions/stopped-watch/classify.ts';
import type { StoppedWatchSettings } from '../../functions/stopped-watch/settings.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;
const topic = 'arn:aws:sns:eu-west-1:123456789012:ops';

const alertsConfig = (minSeverity: StoppedWatchSettings['alerts']['minSeverity']) => ({ topicArn: topic, minSeverity, windowMinutes: 10 });
const classification = (category: Category): Classification => ({
  category,
  severity: SEVERITY[category],
  hint: HINTS[category],
  reason: `reason of ${category}`,
});

function window(overrides: Partial<AlertWindow> = {}): AlertWindow {
  const sample = {
    at: T0,
    reason: 'OutOfMemoryError: Container killed due to memory usage',
    hint: HINTS.oom,
    container: 'app',
    eventId: 'e-1',
    taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef',
    detailType: 'ECS Task State Change',
  };
  return {
    id: alertWindowId('prod', 'web', 'oom'),
    cluster: 'prod',
    service: 'web',
    isService: true,
    category: 'oom',
    severity: 'high',
    region: 'eu-west-1',
    windowStart: T0,
    windowEnd: T0 + 10 * MIN,
    count: 1,
    carried: 0,
    sent: 1,
    firstSent: true,
    failures: 0,
    eventIds: new Set(['e-1']),
    version: 3,
    first: sample,
    last: { ...sample, at: T0 + 4 * MIN, eventId: 'e-9', taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/fedcba9876543210' },
    expiration: Math.floor((T0 + 10 * MIN) / 1000) + 86_400,
    ...overrides,
  };
}

describe('shouldAlert', () => {
  it('sends a severity at or above minSeverity, and nothing below it', () => {
    expect(shouldAlert(classification('oom'), alertsConfig('high'))).toBe(true);
    expect(shouldAlert(classification('essential-exit'), alertsConfig('high'))).toBe(false);
    expect(shouldAlert(classification('essential-exit'), alertsConfig('medium'))).toBe(true);
    expect(shouldAlert(classification('spot'), alertsConfig('medium'))).toBe(false);
    expect(shouldAlert(classification('oom'), alertsConfig('critical'))).toBe(false);
  });

  it('never sends deployment-benign or user-stop, even with minSeverity info', () => {
    const sent = CATEGORIES.filter((c) => shouldAlert(classification(c), alertsConfig('info')));
    expect(CATEGORIES.filter((c) => !sent.includes(c))).toEqual(['deployment-benign', 'user-stop']);
  });

  it('sends nothing without a topic', () => {
    expect(CATEGORIES.filter((c) => shouldAlert(classification(c), { ...alertsConfig('info'), topicArn: undefined }))).toEqual([]);
  });
});

describe('decideOnEvent', () => {
  it('opens a window when there is none', () => {
    expect(decideOnEvent(undefined, 'e-2', T0)).toEqual({ action: 'open', carried: 0 });
  });

  it('counts a new event into a running window, and recognises a duplicate', () => {
    expect(decideOnEvent(window(), 'e-2', T0 + MIN)).toEqual({ action: 'count', tracked: true });
    expect(decideOnEvent(window(), 'e-1', T0 + MIN)).toEqual({ action: 'duplicate' });
  });

  it('still counts once the id set is full, without remembering the id', () => {
    const full = window({ eventIds: new Set(Array.from({ length: TRACKED_IDS_MAX }, (_, i) => `id-${i}`)) });
    expect(decideOnEvent(full, 'e-new', T0 + MIN)).toEqual({ action: 'count', tracked: false });
  });

  it('opens a new window after the end, carrying the events no message has covered yet', () => {
    const ended = window({ count: 38, sent: 1 });
    expect(decideOnEvent(ended, 'e-2', T0 + 10 * MIN)).toEqual({ action: 'open', carried: 37, expectVersion: 3 });
    expect(decideOnEvent(window({ count: 38, sent: 38 }), 'e-2', T0 + 11 * MIN)).toEqual({ action: 'open', carried: 0, expectVersion: 3 });
  });

  it('does not carry what a live claim is sending, but does once the claim has lapsed', () => {
    const sending = window({ count: 38, sent: 1, claimOwner: 'flush-1', claimUntil: T0 + 10 * MIN + CLAIM_LEASE_MS, claimCount: 38, claimKind: 'summary' });
    expect(decideOnEvent(sending, 'e-2', T0 + 10 * MIN + 1000)).toEqual({ action: 'open', carried: 0, expectVersion: 3 });
    expect(decideOnEvent(sending, 'e-2', T0 + 10 * MIN + CLAIM_LEASE_MS)).toEqual({ action: 'open', carried: 37, expectVersion: 3 });
  });

  it('treats a record past its TTL as absent (DynamoDB deletes expired items lazily)', () => {
    const old = window({ windowEnd: T0 + 2 * 86_400_000, expiration: Math.floor(T0 / 1000) });
    expect(decideOnEvent(old, 'e-1', T0 + MIN)).toEqual({ action: 'open', carried: 0, expectVersion: 3 });
  });
});

describe('decideOnFlush', () => {
  it('sends the summary of an ended window that counted more than it sent', () => {
    expect(decideOnFlush(window({ count: 100 }), T0 + 10 * MIN)).toEqual({ action: 'send', kind: 'summary', covers: 100 });
  });

  it('waits for the window to end', () => {
    expect(decideOnFlush(window({ count: 100 }), T0 + 10 * MIN - 1)).toEqual({ action: 'skip', why: 'window still open' });
  });

  it('has nothing to do when everything was sent', () => {
    expect(decideOnFlush(window({ count: 100, sent: 100 }), T0 + 11 * MIN)).toEqual({ action: 'skip', why: 'nothing pending' });
  });

  it('sends the first alert again once the claim of a sender that died or failed has lapsed', () => {
    const died = window({ count: 3, sent: 0, firstSent: false, claimOwner: 'inv-1', claimUntil: T0 + CLAIM_LEASE_MS, claimCount: 1, claimKind: 'first' });
    expect(decideOnFlush(died, T0 + MIN)).toEqual({ action: 'skip', why: 'a message is being sent' });
    expect(decideOnFlush(died, T0 + CLAIM_LEASE_MS)).toEqual({ action: 'send', kind: 'first', covers: 3 });
    const released = window({ count: 1, sent: 0, firstSent: false, failures: 1 });
    expect(decideOnFlush(released, T0 + MIN)).toEqual({ action: 'send', kind: 'first', covers: 1 });
  });

  it('gives up after MAX_SEND_FAILURES failed publishes', () => {
    expect(decideOnFlush(window({ count: 5, failures: MAX_SEND_FAILURES }), T0 + 11 * MIN)).toMatchObject({ action: 'abandon' });
    expect(decideOnFlush(window({ count: 5, failures: MAX_SEND_FAILURES - 1 }), T0 + 11 * MIN)).toMatchObject({ action: 'send' });
  });
});

describe('alert text', () => {
  const ctx = { windowMinutes: 10, defaultRegion: 'us-east-1' };

  it('has a label for every category', () => {
    for (const c of CATEGORIES) expect(categoryLabel(c)).toMatch(/^[A-Z][\x20-\x7e]+$/);
  });

  it('first alert: what, where, how many, the hint and console links, in plain text', () => {
    const { subject, message } = renderMessage('first', window({ sent: 0, firstSent: false }), 1, ctx);
    expect(subject).toBe('ECS HIGH: Out of memory - prod/web');
    expect(message).toContain('Out of memory (oom), severity high.');
    expect(message).toContain('Where: cluster prod, service web, eu-west-1');
    expect(message).toContain('What: task 0123456789abcdef (container app)');
    expect(message).toContain('How many: 1 at 10:00 UTC.');
    expect(message).toContain('More within 10 min are counted and sent as one summary.');
    expect(message).toContain('Reason: OutOfMemoryError: Container killed due to memory usage');
    expect(message).toContain(`Fix: ${HINTS.oom}`);
    expect(message).toContain('Service: https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=eu-west-1');
    expect(message).toContain('Task: https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0123456789abcdef/configuration?region=eu-west-1');
    expect(message).not.toMatch(/<[a-z]+>|\*\*|\|/); // no HTML, no markdown, no tables
  });

  it('summary: "N more in the last 10 min", the period and the latest task', () => {
    const { subject, message } = renderMessage('summary', window({ count: 38, sent: 1 }), 38, ctx);
    expect(subject).toBe('ECS HIGH: 37 more Out of memory in 10 min - prod/web');
    expect(message.split('\n')[0]).toBe('37 more task stops in the last 10 min: Out of memory (oom), severity high.');
    expect(message).toContain('When: 10:00 to 10:10 UTC, 38 in all since the first alert.');
    expect(message).toContain('Latest: task fedcba9876543210 (container app) at 10:04 UTC: OutOfMemoryError');
  });

  it('first alert of a window that carries unreported events says so', () => {
    const { message, subject } = renderMessage('first', window({ count: 13, carried: 12, sent: 0, firstSent: false }), 13, ctx);
    expect(message).toContain('How many: 1 at 10:00 UTC, plus 12 earlier not yet reported.');
    expect(subject).toBe('ECS HIGH: Out of memory x13 - prod/web');
  });

  it('a first alert re-sent late by the flush counts what the window holds', () => {
    const { message } = renderMessage('first', window({ count: 4, sent: 0, firstSent: false }), 4, ctx);
    expect(message).toContain('How many: 4 task stops since 10:00 UTC.');
  });

  it('uses the function region when the event had none', () => {
    expect(renderMessage('first', window({ region: undefined }), 1, ctx).message).toContain(
      'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=us-east-1',
    );
  });

  it('subjects stay under the SNS limit and in printable ASCII, whatever the names', () => {
    const long = window({ cluster: 'c'.repeat(255), service: 's'.repeat(255) });
    for (const kind of ['first', 'summary'] as const) {
      const { subject } = renderMessage(kind, long, 12, ctx);
      expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      expect(subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
    }
    expect(subjectLine('tab\there\nnew line é ✓')).toBe('tab here new line');
    expect(SUBJECT_MAX).toBeLessThan(100);
  });

  it('links to the deployments tab for a deployment and to the EC2 instance for an agent', () => {
    const deployment = classifyEvent({ 'detail-type': 'ECS Deployment State Change', detail: { eventName: 'SERVICE_DEPLOYMENT_FAILED', reason: 'x' } })!;
    expect(deployment.category).toBe('deployment-failed');
    const w = window({ category: 'deployment-failed' });
    const links = consoleLinks(w, { at: T0, reason: 'x', deploymentId: 'ecs-svc/1', detailType: 'ECS Deployment State Change' }, 'eu-west-1');
    expect(links).toEqual(['Service: https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/deployments?region=eu-west-1']);
    const agent = window({ service: 'container-instance', isService: false, category: 'agent' });
    expect(consoleLinks(agent, { at: T0, reason: 'x', ec2InstanceId: 'i-0abc', detailType: 'ECS Container Instance State Change' }, 'eu-west-1')).toEqual([
      'Instance: https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0abc',
    ]);
    expect(consoleLinks(window({ service: 'family:batch', isService: false }), { at: T0, reason: 'x' }, 'eu-west-1')).toEqual([
      'Cluster: https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services?region=eu-west-1',
    ]);
  });
});
