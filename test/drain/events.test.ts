import { describe, expect, it } from 'vitest';
import { drainPatterns } from '../../functions/drain/events.ts';
import { assertValidPattern, matchesPattern, type EventPattern } from '../../functions/shared/event-pattern.ts';
import { parseConfig } from '../../functions/shared/config.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';

// The clusters, ASG and hook the real payloads name, so that each pattern meets its own kind of event.
const config = parseConfig({
  clusters: [{ name: 'default', asgs: ['my-asg'] }, { name: 'test' }, { name: 'FargateCluster' }, { name: 'DemoTrafficGen01-EcsCluster97242B84-u8PnqOAmk1tO' }],
  drain: { hookName: 'my-lifecycle-hook', spotInterruption: true },
});
const patterns = drainPatterns(config);
const all = Object.entries(patterns).filter((entry): entry is [string, EventPattern] => entry[1] !== undefined);
const matching = (pattern: EventPattern) => [...loadAwsEvents()].filter(([, event]) => matchesPattern(pattern, event)).map(([file]) => file);

describe('drain event patterns', () => {
  it('are valid EventBridge syntax', () => {
    expect(all.map(([name]) => name).sort()).toEqual(['containerInstance', 'lifecycle', 'spot', 'taskStopped']);
    for (const [, pattern] of all) expect(() => assertValidPattern(pattern)).not.toThrow();
  });

  it('select exactly the expected real payloads', () => {
    expect(matching(patterns.lifecycle!)).toEqual(['asg-terminate-lifecycle-action-eventbridge-docs.json']);
    // The Fargate STOPPED task has no container instance; the other task events are not STOPPED.
    expect(matching(patterns.taskStopped)).toEqual(['ecs-task-state-change-stopped-scaling-ec2-exit137.json']);
    // The only container instance event is ACTIVE; the DRAINING sample is an API response, not an event.
    expect(matching(patterns.containerInstance)).toEqual([]);
    expect(matching(patterns.spot!)).toEqual(['ec2-spot-interruption-warning-docs.json']);
    const union = new Set(all.flatMap(([, p]) => matching(p)));
    expect([...union].sort()).toEqual([
      'asg-terminate-lifecycle-action-eventbridge-docs.json',
      'ec2-spot-interruption-warning-docs.json',
      'ecs-task-state-change-stopped-scaling-ec2-exit137.json',
    ]);
  });

  it('match a DRAINING container instance event of a configured cluster only', () => {
    const active = loadAwsEvent('ecs-container-instance-state-change-active-docs.json');
    const draining = { ...active, detail: { ...active.detail, status: 'DRAINING' } };
    expect(matchesPattern(patterns.containerInstance, draining)).toBe(true);
    const elsewhere = { ...draining, detail: { ...draining.detail, clusterArn: 'arn:aws:ecs:us-east-1:111122223333:cluster/default-2' } };
    expect(matchesPattern(patterns.containerInstance, elsewhere)).toBe(false);
  });

  it('leave other hooks, other groups and other clusters out', () => {
    const lifecycle = loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');
    expect(matchesPattern(patterns.lifecycle!, { ...lifecycle, detail: { ...lifecycle.detail, LifecycleHookName: 'other-hook' } })).toBe(false);
    expect(matchesPattern(patterns.lifecycle!, { ...lifecycle, detail: { ...lifecycle.detail, AutoScalingGroupName: 'other-asg' } })).toBe(false);
    const stopped = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    const otherCluster = { ...stopped, detail: { ...stopped.detail, clusterArn: 'arn:aws:ecs:us-east-2:XXXXXXXXXXXX:cluster/other' } };
    expect(matchesPattern(patterns.taskStopped, otherCluster)).toBe(false);
    expect(matchesPattern(patterns.taskStopped, { ...stopped, detail: { ...stopped.detail, lastStatus: 'DEACTIVATING' } })).toBe(false);
  });

  it('leave out the lifecycle rule without ASGs and the Spot rule unless enabled', () => {
    const bare = drainPatterns(parseConfig({ clusters: [{ name: 'prod' }] }));
    expect(bare.lifecycle).toBeUndefined();
    expect(bare.spot).toBeUndefined();
    expect(matching(bare.taskStopped)).toEqual([]);
  });
});
