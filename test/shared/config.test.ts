import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { drainEnvSchema } from '../../functions/drain/settings.ts';
import { checkDeployable, loadConfig } from '../../infra/config.ts';
import { repoRoot } from '../support/fixtures.ts';
import { join } from 'node:path';

const job = {
  name: 'nightly',
  cluster: 'prod',
  taskDefinition: 'report:3',
  schedule: { expression: 'cron(0 2 * * ? *)' },
  maxRunSeconds: 3600,
};
const base = { clusters: [{ name: 'prod', asgs: ['prod-asg'] }], jobs: [job] };

const errorOf = (value: unknown): ConfigError => {
  try {
    parseConfig(value);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected the config to be rejected');
};

describe('configuration', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig(base);
    expect(config.service).toBe('ecs-caretaker');
    expect(config.jobs[0]).toMatchObject({ overlap: 'skip', schedule: { timezone: 'UTC', method: 'scheduler' } });
    expect(config.alerts).toEqual({ minSeverity: 'high', windowMinutes: 10 });
    expect(config.taskLock.lockRetentionHours).toBe(168);
  });

  it('the shipped caretaker.config.ts is valid', () => {
    const config = loadConfig(join(repoRoot, 'caretaker.config.ts'));
    expect(config.jobs.length).toBeGreaterThan(0);
  });

  it.each([
    [{ ...base, jobs: [{ ...job, maxRunSeconds: 10 }] }, 'config.jobs[0].maxRunSeconds: Too small: expected number to be >=60'],
    [{ ...base, jobs: [{ ...job, cluster: 'staging' }] }, 'config.jobs[0].cluster: "staging" is not one of the configured clusters (prod)'],
    [
      { ...base, jobs: [{ ...job, schedule: { expression: 'every 5 minutes' } }] },
      'config.jobs[0].schedule.expression: expected rate(...), cron(...) or at(...)',
    ],
    [
      { ...base, jobs: [{ ...job, schedule: { expression: 'rate(5 minutes)', timezone: 'Mars/Olympus' } }] },
      'config.jobs[0].schedule.timezone: expected an IANA time zone',
    ],
    [
      { ...base, jobs: [{ ...job, schedule: { expression: 'rate(5 minutes)', method: 'rule', timezone: 'Europe/Paris' } }] },
      'config.jobs[0].schedule.timezone: EventBridge rules run in UTC only',
    ],
    [{ ...base, jobs: [{ ...job, launchType: 'FARGATE' }] }, 'config.jobs[0].networkConfiguration: required when launchType is FARGATE'],
    [
      { ...base, jobs: [{ ...job, launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'cp' }] }] },
      'config.jobs[0].capacityProviderStrategy: use either launchType or capacityProviderStrategy',
    ],
    [{ ...base, jobs: [job, job] }, 'config.jobs[1].name: duplicate job name "nightly"'],
    [{ ...base, jobs: [{ ...job, overlap: 'queue' }] }, 'config.jobs[0].overlap: Invalid option: expected one of "skip"|"allow"'],
    [{ ...base, jobs: [{ ...job, unknownField: 1 }] }, 'config.jobs[0]: Unrecognized key: "unknownField"'],
    [{ ...base, clusters: [] }, 'config.clusters: list at least one cluster'],
    [{ ...base, alerts: { topicArn: 'ops-alerts' } }, 'config.alerts.topicArn: expected an sns ARN'],
    [{ jobs: [] }, 'config.clusters: Invalid input: expected array, received undefined'],
  ])('names the bad field: %#', (value, message) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
  });

  it('reports every bad field at once', () => {
    const error = errorOf({ ...base, jobs: [{ ...job, maxRunSeconds: 1, taskDefinition: '' }] });
    expect(error.issues).toHaveLength(2);
  });

  it('accepts more jobs than the 4 KB Lambda environment held: the bundles carry them (infra/embedded-settings.ts)', () => {
    const big = parseConfig({
      ...base,
      jobs: Array.from({ length: 20 }, (_, i) => ({
        ...job,
        name: `job-${i}`,
        overrides: { containerOverrides: [{ name: 'app', command: ['x'.repeat(100)] }] },
      })),
    });
    expect(Buffer.byteLength(JSON.stringify(big.jobs))).toBeGreaterThan(4096);
    expect(checkDeployable(big).jobs).toHaveLength(20);
  });

  it('loadConfig names the file it could not load', () => {
    expect(() => loadConfig('/nonexistent/caretaker.config.ts')).toThrow(/Cannot load \/nonexistent\/caretaker.config.ts/);
  });
});

describe('configuration of drain, cleanup and stopped-watch', () => {
  it('fills in every section with its defaults when it is absent', () => {
    const config = parseConfig(base);
    expect(config.drain).toEqual({
      hookName: 'ecs-caretaker-drain',
      heartbeatTimeoutSeconds: 300,
      drainTimeoutSeconds: 3600,
      timeoutOutcome: 'CONTINUE',
      standaloneTasks: { policy: 'wait', stopAfterSeconds: 600 },
      reconcileSchedule: 'rate(1 minute)',
      spotInterruption: false,
    });
    expect(config.cleanup).toMatchObject({ schedule: 'rate(1 day)', fstrim: 'auto', maxConcurrency: '10%', maxErrors: '10%' });
    expect(config.stoppedWatch).toEqual({ requestCleanup: true });
  });

  it.each([
    [{ drain: { heartbeatTimeoutSeconds: 10 } }, 'config.drain.heartbeatTimeoutSeconds: Too small: expected number to be >=30'],
    [{ drain: { timeoutOutcome: 'RETRY' } }, 'config.drain.timeoutOutcome: Invalid option'],
    [{ cleanup: { maxConcurrency: 'lots' } }, 'config.cleanup.maxConcurrency: expected a count such as "5" or a percentage such as "10%"'],
    [{ cleanup: { schedule: 'daily' } }, 'config.cleanup.schedule: expected rate(...) or cron(...)'],
  ])('names the bad field: %#', (extra, message) => {
    expect(errorOf({ ...base, ...extra }).message).toContain(message);
  });
});

describe('drain timing the hook cannot survive is refused, with the reason', () => {
  const drainError = (drain: CaretakerConfigInput['drain']) => errorOf({ ...base, drain }).issues;

  it.each([
    // AWS rejects these at deploy (EventBridge rate expressions reference: positive value, singular unit for 1 only).
    ['rate(5 minute)', 'config.drain.reconcileSchedule: "rate(5 minute)": AWS rejects it; write rate(5 minutes)'],
    ['rate(1 minutes)', 'config.drain.reconcileSchedule: "rate(1 minutes)": AWS rejects it; write rate(1 minute)'],
    ['rate(0 minutes)', 'config.drain.reconcileSchedule: "rate(0 minutes)": the value must be a positive integer'],
    ['rate(1.5 minutes)', 'config.drain.reconcileSchedule: "rate(1.5 minutes)": the value must be a positive integer'],
    ['rate(2 weeks)', 'config.drain.reconcileSchedule: "rate(2 weeks)": the unit must be minute(s), hour(s) or day(s)'],
    ['cron(*/1 * * * ?)', 'config.drain.reconcileSchedule: "cron(*/1 * * * ?)": a cron expression has six fields'],
  ])('refuses the schedule %s, which AWS rejects', (reconcileSchedule, message) => {
    expect(drainError({ reconcileSchedule })).toEqual([expect.stringContaining(message)]);
  });

  it('refuses a 10-minute cron for a 300 s hook: its longest gap is computed, not ignored', () => {
    expect(drainError({ reconcileSchedule: 'cron(0/10 * * * ? *)', heartbeatTimeoutSeconds: 300 })).toEqual([
      "config.drain.heartbeatTimeoutSeconds: 300 s is too short for a reconcile tick every 600 s (reconcileSchedule): it must be at least 3 × the tick period + 60 s (the drain function's timeout) = 1860 s, so that one failed tick does not expire the hook",
    ]);
  });

  it('measures the longest gap of an uneven cron, across midnight too', () => {
    // Every minute from 08:00 to 17:59 UTC, then nothing until 08:00: a 14-hour gap.
    expect(drainError({ reconcileSchedule: 'cron(* 8-17 * * ? *)' })).toEqual([
      expect.stringContaining('config.drain.heartbeatTimeoutSeconds: 300 s is too short for a reconcile tick every 50460 s'),
    ]);
    // Minutes 0, 1, 2 and 45: the gap is 43 minutes (02 → 45), not the 1 minute most runs are apart.
    expect(drainError({ reconcileSchedule: 'cron(0,1,2,45 * * * ? *)', heartbeatTimeoutSeconds: 7200 })).toEqual([
      expect.stringContaining('7200 s is too short for a reconcile tick every 2580 s'),
    ]);
  });

  it('accepts a cron that runs often enough, every day', () => {
    const config = parseConfig({ ...base, drain: { reconcileSchedule: 'cron(* * * * ? *)' } });
    expect(config.drain.reconcileSchedule).toBe('cron(* * * * ? *)');
    expect(
      parseConfig({ ...base, drain: { reconcileSchedule: 'cron(*/2 * ? * SUN-SAT *)', heartbeatTimeoutSeconds: 420 } }).drain.heartbeatTimeoutSeconds,
    ).toBe(420);
  });

  it.each([
    ['cron(* * ? * MON-FRI *)', 'it does not run every day (day-of-week "MON-FRI")'],
    ['cron(* * 1 * ? *)', 'it does not run every day (day-of-month "1")'],
    ['cron(* * * * ? 2027)', 'it does not run every day (year "2027")'],
    ['cron(* * L * ? *)', 'it does not run every day (day-of-month "L")'],
    ['cron(* * * * * *)', 'exactly one of day-of-month and day-of-week must be ?'],
  ])('refuses a cron whose gap it cannot bound below a day: %s', (reconcileSchedule, reason) => {
    expect(drainError({ reconcileSchedule })).toEqual([
      expect.stringMatching(
        /^config\.drain\.reconcileSchedule: the longest gap between two ticks cannot be checked: .*use rate\(\.\.\.\) or a cron that runs every day$/,
      ),
    ]);
    expect(drainError({ reconcileSchedule })[0]).toContain(reason);
  });

  it('refuses a heartbeat timeout of only 1.5 tick periods, and of 3 periods without the margin', () => {
    expect(drainError({ reconcileSchedule: 'rate(2 minutes)', heartbeatTimeoutSeconds: 180 })).toEqual([
      "config.drain.heartbeatTimeoutSeconds: 180 s is too short for a reconcile tick every 120 s (reconcileSchedule): it must be at least 3 × the tick period + 60 s (the drain function's timeout) = 420 s, so that one failed tick does not expire the hook",
    ]);
    expect(drainError({ heartbeatTimeoutSeconds: 180 })).toEqual([expect.stringContaining('must be at least 3 × the tick period + 60 s')]);
    expect(parseConfig({ ...base, drain: { heartbeatTimeoutSeconds: 240 } }).drain.heartbeatTimeoutSeconds).toBe(240);
  });

  it('refuses a drain timeout within one tick (plus the margin) of the global timeout', () => {
    // Global timeout = min(172800 s, 100 × 240 s) = 24000 s (Auto Scaling API reference, LifecycleHook.GlobalTimeout).
    expect(drainError({ heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 23_990 })).toEqual([
      "config.drain.drainTimeoutSeconds: 23990 s ends too close to the lifecycle action's global timeout, min(48 h, 100 × heartbeatTimeoutSeconds) = 24000 s: the tick that applies it may come 60 s (reconcileSchedule) + 60 s later, so it must be at most 23880 s",
    ]);
    expect(parseConfig({ ...base, drain: { heartbeatTimeoutSeconds: 240, drainTimeoutSeconds: 23_880 } }).drain.drainTimeoutSeconds).toBe(23_880);
    // The 48-hour cap applies from a HeartbeatTimeout of 1728 s up.
    expect(drainError({ heartbeatTimeoutSeconds: 7200, drainTimeoutSeconds: 172_800 })).toEqual([
      expect.stringContaining('global timeout, min(48 h, 100 × heartbeatTimeoutSeconds) = 172800 s'),
    ]);
  });

  it('refuses stopAfterSeconds at or past the drain timeout under stop-after, and ignores it under the other policies', () => {
    expect(drainError({ drainTimeoutSeconds: 900, standaloneTasks: { policy: 'stop-after', stopAfterSeconds: 900 } })).toEqual([
      'config.drain.standaloneTasks.stopAfterSeconds: 900 s leaves no tick before the drain timeout (900 s) to stop the task: it must be below drainTimeoutSeconds - 60 s (reconcileSchedule) = 840 s',
    ]);
    expect(drainError({ drainTimeoutSeconds: 900, standaloneTasks: { policy: 'stop-after', stopAfterSeconds: 1200 } })).toHaveLength(1);
    expect(drainError({ drainTimeoutSeconds: 900, standaloneTasks: { policy: 'stop-after', stopAfterSeconds: 840 } })).toHaveLength(1);
    expect(
      parseConfig({ ...base, drain: { drainTimeoutSeconds: 900, standaloneTasks: { policy: 'stop-after', stopAfterSeconds: 839 } } }).drain.standaloneTasks,
    ).toEqual({
      policy: 'stop-after',
      stopAfterSeconds: 839,
    });
    expect(
      parseConfig({ ...base, drain: { drainTimeoutSeconds: 300, standaloneTasks: { policy: 'wait', stopAfterSeconds: 600 } } }).drain.drainTimeoutSeconds,
    ).toBe(300);
  });

  it('names every problem of one config at once', () => {
    expect(drainError({ reconcileSchedule: 'rate(5 minutes)', heartbeatTimeoutSeconds: 600, drainTimeoutSeconds: 59_900 }).map((i) => i.split(':')[0])).toEqual(
      ['config.drain.heartbeatTimeoutSeconds', 'config.drain.drainTimeoutSeconds'],
    );
  });

  it('applies the rate grammar to the other schedules too', () => {
    expect(errorOf({ ...base, cleanup: { schedule: 'rate(1 days)' } }).issues).toEqual([
      'config.cleanup.schedule: "rate(1 days)": AWS rejects it; write rate(1 day) (singular unit only for 1)',
    ]);
    expect(errorOf({ ...base, audit: { schedule: 'rate(0 hours)' } }).issues).toEqual([
      'config.audit.schedule: "rate(0 hours)": the value must be a positive integer',
    ]);
  });

  it('checks the drain slice again where the handler reads it (DRAIN_CONFIG)', () => {
    const env = drainEnvSchema.safeParse({ clusters: [{ name: 'prod', asgs: ['prod-asg'] }], drain: { heartbeatTimeoutSeconds: 120 } });
    expect(env.success).toBe(false);
    expect(env.error?.issues[0]).toMatchObject({ path: ['drain', 'heartbeatTimeoutSeconds'] });
  });
});
