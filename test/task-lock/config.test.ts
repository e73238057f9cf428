/** The task-lock part of the configuration: what it refuses, and with which field named. */
import { describe, expect, it } from 'vitest';
import { ConfigError, maxDelaySecondsOf, parseConfig } from '../../functions/shared/config.ts';
import { scheduleNameFor, scheduleNameIssues } from '../../functions/task-lock/settings.ts';
import { taskLockFunction } from '../../infra/functions/task-lock.ts';
import { deployContext } from '../../infra/functions/types.ts';

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

describe('task-lock schedule names', () => {
  // 40 + 1 + 12 + 1 = 54 characters before the job name: two jobs differing after their 10th character collide at 64.
  const service = 'platform-reporting-batch-jobs-eu-central';
  const stage = 'production-2';
  const twoJobs = parseConfig({
    service,
    clusters: [{ name: 'batch' }],
    jobs: [
      { ...job, name: 'nightly-report-invoices' },
      { ...job, name: 'nightly-report-payments' },
    ],
  });

  it('refuses two jobs whose default names collide after the 64-character cut, naming the field and the fix', () => {
    const [a, b] = twoJobs.jobs.map((j) => scheduleNameFor(twoJobs, stage, j));
    expect(a).toHaveLength(64);
    expect(a).toBe(b);
    expect(scheduleNameIssues(twoJobs, stage)).toEqual([
      `config.jobs[1].schedule.name: job "nightly-report-payments" would get the schedule name "${a}" of job "nightly-report-invoices" in stage "${stage}" (<service>-<stage>-<job> cut to 64 characters); set a distinct schedule.name`,
    ]);
    expect(() => taskLockFunction(deployContext(twoJobs, stage))).toThrow(ConfigError);
    // A short stage keeps them apart.
    expect(scheduleNameIssues(twoJobs, 'dev')).toEqual([]);
  });

  it("refuses an explicit name equal to another job's name, and accepts distinct ones", () => {
    const explicit = parseConfig({
      ...twoJobs,
      jobs: twoJobs.jobs.map((j, i) => ({ ...j, schedule: { ...j.schedule, name: i === 0 ? 'reports' : 'reports' } })),
    });
    expect(scheduleNameIssues(explicit, stage)).toEqual([
      `config.jobs[1].schedule.name: job "nightly-report-payments" would get the schedule name "reports" of job "nightly-report-invoices" in stage "${stage}"; set a distinct schedule.name`,
    ]);
    const distinct = parseConfig({ ...twoJobs, jobs: twoJobs.jobs.map((j, i) => ({ ...j, schedule: { ...j.schedule, name: `reports-${i}` } })) });
    expect(scheduleNameIssues(distinct, stage)).toEqual([]);
    expect(() => taskLockFunction(deployContext(distinct, stage))).not.toThrow();
  });
});
