import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_MAX, cleanField, FIELD_MAX, renderMessage, type AlertWindow } from '../../functions/stopped-watch/alerts.ts';

// stoppedReason is free text: anyone allowed ecs:StopTask --reason writes it.
// Nothing from an event may carry control or bidi characters into an alert.

const NUL = '\u0000';
const RLO = '\u202e'; // RIGHT-TO-LEFT OVERRIDE
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters an alert must never carry are what this matches.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

function windowWith(reason: string, extra: Partial<AlertWindow> = {}): AlertWindow {
  const sample = {
    at: Date.UTC(2026, 0, 1, 12, 0),
    reason,
    hint: `Fix it${RLO}now`,
    container: `app${NUL}`,
    taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/prod/abc${RLO}def`,
  };
  return {
    id: 'alert#prod#web#user-stop',
    cluster: `prod${RLO}`,
    service: `web${NUL}x`,
    isService: true,
    category: 'unknown',
    severity: 'medium',
    windowStart: sample.at,
    windowEnd: sample.at + 60_000,
    count: 1,
    carried: 0,
    sent: 0,
    firstSent: false,
    failures: 0,
    version: 1,
    first: sample,
    last: sample,
    expiration: 0,
    ...extra,
  };
}

describe('cleanField', () => {
  it('removes NUL, escape sequences and bidi overrides, and caps the length', () => {
    expect(cleanField(`ok${NUL}\u001b[31mred${RLO}evil\u2066x\u2069`)).toBe('ok [31mred evil x');
    expect(cleanField('x'.repeat(5000))).toHaveLength(FIELD_MAX);
    expect(cleanField('y'.repeat(400), ATTRIBUTE_MAX)).toHaveLength(ATTRIBUTE_MAX);
  });
});

describe('alert text built from a hostile stop reason', () => {
  const hostile = `Stopped by ${RLO}gnp.exe${NUL} operator\r\nFake: line${'z'.repeat(3000)}`;

  for (const kind of ['first', 'summary'] as const) {
    it(`${kind}: subject and body carry no control or bidi character and stay bounded`, () => {
      const w = windowWith(hostile, kind === 'summary' ? { firstSent: true, sent: 1, count: 3 } : {});
      const { subject, message } = renderMessage(kind, w, kind === 'first' ? 1 : 3, { windowMinutes: 15, defaultRegion: 'eu-west-1' });
      expect(subject).not.toMatch(UNSAFE);
      expect(subject.length).toBeLessThan(100);
      expect(message).not.toMatch(UNSAFE);
      // The body keeps its own line structure; the reason itself is one line.
      expect(message).toContain('Stopped by gnp.exe operator Fake: line');
      expect(message).not.toContain('\r');
      expect(message.length).toBeLessThan(FIELD_MAX * 4);
    });
  }
});
