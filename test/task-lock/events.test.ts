import { describe, expect, it } from 'vitest';
import { assertValidPattern, matchesPattern } from '../../functions/shared/event-pattern.ts';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { startedByFor } from '../../functions/task-lock/lock.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';

describe('task-lock event pattern', () => {
  it('is valid EventBridge syntax', () => {
    expect(() => assertValidPattern(taskStoppedPattern)).not.toThrow();
  });

  it('matches none of the real payloads: none of them was started by task-lock', () => {
    const matching = [...loadAwsEvents()].filter(([, e]) => matchesPattern(taskStoppedPattern, e)).map(([f]) => f);
    expect(matching).toEqual([]);
  });

  it('matches a real STOPPED event once its task was started by task-lock, and not while it runs', () => {
    const stopped = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    const ours = { ...stopped, detail: { ...stopped.detail, startedBy: startedByFor('ecs-caretaker-prod', 'nightly') } };
    expect(matchesPattern(taskStoppedPattern, ours)).toBe(true);
    expect(matchesPattern(taskStoppedPattern, { ...ours, detail: { ...ours.detail, lastStatus: 'RUNNING' } })).toBe(false);
    expect(matchesPattern(taskStoppedPattern, { ...ours, detail: { ...ours.detail, startedBy: 'ecs-svc/1234567890' } })).toBe(false);
  });
});
