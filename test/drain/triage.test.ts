import { describe, expect, it } from 'vitest';
import type { DrainRecord } from '../../functions/drain/records.ts';
import { FULL_CHECK_EVERY_MS, stepReason, type TriageSettings } from '../../functions/drain/triage.ts';

const T0 = Date.parse('2026-06-01T09:00:00Z');
const settings: TriageSettings = { drainTimeoutSeconds: 3600, standaloneTasks: { policy: 'wait', stopAfterSeconds: 600 } };
const record = (extra: Partial<DrainRecord> = {}): DrainRecord => ({
  id: 'drain#prod-asg#i-1#token',
  state: 'open',
  asg: 'prod-asg',
  instanceId: 'i-1',
  token: 'token',
  hookName: 'drain',
  startedAt: T0,
  heartbeatAt: T0,
  heartbeats: 0,
  checks: 1,
  checkedAt: T0 + 60_000,
  apiCalls: 5,
  cluster: 'prod',
  containerInstanceArn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc',
  outstanding: new Set(['t1', 't2']),
  excludedRunning: 1,
  ...extra,
});
const busy = { status: 'DRAINING', runningTasksCount: 3, pendingTasksCount: 0 };
const now = T0 + 120_000;

describe('stepReason: which open drains the tick steps', () => {
  it('leaves a drain alone while ECS counts more tasks on its instance than it leaves out', () => {
    expect(stepReason(record(), busy, settings, now)).toBeUndefined();
    // One task beyond the daemon (excludedRunning 1): still busy; the daemon alone: maybe empty.
    expect(stepReason(record(), { ...busy, runningTasksCount: 1, pendingTasksCount: 1 }, settings, now)).toBeUndefined();
    expect(stepReason(record(), { ...busy, runningTasksCount: 1 }, settings, now)).toBe('counts-say-empty');
    expect(stepReason(record({ excludedRunning: undefined }), { ...busy, runningTasksCount: 0 }, settings, now)).toBe('counts-say-empty');
  });

  it('steps a drain whose deadline came, whatever the counts', () => {
    expect(stepReason(record(), busy, settings, T0 + 3600_000)).toBe('timed-out');
    const stopAfter = { ...settings, standaloneTasks: { policy: 'stop-after' as const, stopAfterSeconds: 60 } };
    const withJob = record({ knownTasks: { j1: { group: 'family:batch' }, s1: { group: 'service:web', daemon: false } } });
    expect(stepReason(withJob, busy, stopAfter, now)).toBe('stop-after-due');
    expect(stepReason(withJob, busy, stopAfter, T0 + 59_000)).toBeUndefined();
    // Every standalone task known STOPPED: nothing to stop.
    expect(stepReason(record({ knownTasks: { j1: { group: 'family:batch', stopped: true } } }), busy, stopAfter, now)).toBeUndefined();
  });

  it('steps a drain that was never located or checked, or whose instance is not DRAINING or gone', () => {
    expect(stepReason(record({ containerInstanceArn: undefined }), undefined, settings, now)).toBe('not-located');
    expect(stepReason(record({ checks: 0 }), busy, settings, now)).toBe('not-located');
    expect(stepReason(record(), { ...busy, status: 'ACTIVE' }, settings, now)).toBe('not-draining');
    expect(stepReason(record(), null, settings, now)).toBe('instance-missing');
  });

  it("steps a drain whose container instance ECS now describes as another EC2 instance's, whatever the counts", () => {
    expect(stepReason(record(), { ...busy, ec2InstanceId: 'i-2' }, settings, now)).toBe('instance-mismatch');
    expect(stepReason(record(), { ...busy, ec2InstanceId: 'i-1' }, settings, now)).toBeUndefined();
  });

  it('waits when the batch could not describe the instance, rather than add calls to a refusing API', () => {
    expect(stepReason(record(), undefined, settings, now)).toBeUndefined();
    expect(stepReason(record(), undefined, settings, T0 + 3600_000)).toBe('timed-out');
  });

  it('steps when the events say every blocker stopped, and at least every FULL_CHECK_EVERY_MS', () => {
    expect(stepReason(record({ stoppedSeen: new Set(['t1', 't2']) }), busy, settings, now)).toBe('events-say-done');
    expect(stepReason(record({ stoppedSeen: new Set(['t1']) }), busy, settings, now)).toBeUndefined();
    expect(stepReason(record(), busy, settings, T0 + 60_000 + FULL_CHECK_EVERY_MS)).toBe('stale-check');
    expect(stepReason(record(), busy, settings, T0 + 60_000 + FULL_CHECK_EVERY_MS - 1)).toBeUndefined();
  });
});
