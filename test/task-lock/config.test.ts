/** The task-lock part of the configuration: what it refuses, and with which field named. */
import { describe, expect, it } from 'vitest';
import { maxDelaySecondsOf, parseConfig } from '../../functions/shared/config.ts';

const job = { name: 'nightly', cluster: 'batch', taskDefinition: 'report', schedule: { expression: 'cron(0 2 * * ? *)' }, maxRunSeconds: 3600 };
const base = { clusters: [{ name: 'batch' }], jobs: [job] };

describe('task-lock config', () => {
  it('defaults: onOverrun skip, maxDelaySeconds one period at most 1 h, locks kept a week', () => {
    const config = parseConfig(base);
    expect(config.jobs[0]).toMatchObject({ onOverrun: 'skip' });
    expect(maxDelaySecondsOf(config.jobs[0]!)).toBe(3600);
    expect(config.taskLock.lockRetentionHours).toBe(168);
  });

  it('refuses a lock retention shorter than the 24 h clientToken window plus the longest maxDelaySeconds', () => {
    expect(() => parseConfig({ ...base, taskLock: { lockRetentionHours: 1 } })).toThrow(
      "config.taskLock.lockRetentionHours: must be at least 25 h: RunTask's 24 h clientToken window plus the longest maxDelaySeconds of the jobs (3600 s)",
    );
    const quick = { ...job, schedule: { expression: 'rate(10 minutes)' } };
    expect(parseConfig({ ...base, jobs: [quick], taskLock: { lockRetentionHours: 25 } }).taskLock.lockRetentionHours).toBe(25);
    expect(() => parseConfig({ ...base, jobs: [quick], taskLock: { lockRetentionHours: 24 } })).toThrow('must be at least 25 h');
  });

  it('refuses a maxDelaySeconds over one hour or under a minute, and an unknown onOverrun', () => {
    expect(() => parseConfig({ ...base, jobs: [{ ...job, maxDelaySeconds: 7200 }] })).toThrow(
      'config.jobs[0].maxDelaySeconds: Too big: expected number to be <=3600',
    );
    expect(() => parseConfig({ ...base, jobs: [{ ...job, maxDelaySeconds: 10 }] })).toThrow('config.jobs[0].maxDelaySeconds');
    expect(() => parseConfig({ ...base, jobs: [{ ...job, onOverrun: 'kill' }] })).toThrow(
      'config.jobs[0].onOverrun: Invalid option: expected one of "skip"|"stop-previous"|"allow"',
    );
  });
});
