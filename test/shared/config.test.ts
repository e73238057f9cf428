import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../functions/shared/config.ts';
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
    [
      { drain: { heartbeatTimeoutSeconds: 30, drainTimeoutSeconds: 3000 } },
      "config.drain.drainTimeoutSeconds: must be below the lifecycle action's global timeout, min(48 h, 100 × heartbeatTimeoutSeconds) = 3000 s",
    ],
    [{ drain: { timeoutOutcome: 'RETRY' } }, 'config.drain.timeoutOutcome: Invalid option'],
    [{ cleanup: { maxConcurrency: 'lots' } }, 'config.cleanup.maxConcurrency: expected a count such as "5" or a percentage such as "10%"'],
    [{ cleanup: { schedule: 'daily' } }, 'config.cleanup.schedule: expected rate(...) or cron(...)'],
  ])('names the bad field: %#', (extra, message) => {
    expect(errorOf({ ...base, ...extra }).message).toContain(message);
  });

  it('accepts a drain timeout just under the global timeout', () => {
    expect(parseConfig({ ...base, drain: { heartbeatTimeoutSeconds: 30, drainTimeoutSeconds: 2999 } }).drain.drainTimeoutSeconds).toBe(2999);
  });
});
