import { describe, expect, it } from 'vitest';
import { assertValidPattern, matchesPattern } from '../../functions/shared/event-pattern.ts';
import { stoppedWatchPatterns } from '../../functions/stopped-watch/events.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';
import { stoppedTask } from './support.ts';

type RuleName = keyof ReturnType<typeof stoppedWatchPatterns>;

/** Which rule(s) select an event. */
function rulesFor(clusters: string[], event: unknown): RuleName[] {
  return (Object.entries(stoppedWatchPatterns(clusters)) as Array<[RuleName, any]>).filter(([, p]) => matchesPattern(p, event)).map(([name]) => name);
}

/** The real payloads that any rule selects for these clusters, with the rules. */
const selectedPayloads = (clusters: string[]) =>
  Object.fromEntries([...loadAwsEvents()].map(([file, event]) => [file, rulesFor(clusters, event)]).filter(([, rules]) => rules!.length > 0));

describe('stopped-watch event patterns', () => {
  it('are valid EventBridge syntax, for one cluster and for several', () => {
    for (const clusters of [['default'], ['prod', 'staging_2', 'a-b']]) {
      for (const pattern of Object.values(stoppedWatchPatterns(clusters))) expect(() => assertValidPattern(pattern)).not.toThrow();
    }
  });

  it('select exactly these real payloads for a config whose cluster is "default"', () => {
    expect(selectedPayloads(['default'])).toEqual({
      'ecs-deployment-failed-docs.json': ['deployment'],
      'ecs-deployment-in-progress-rollback-docs.json': ['deployment'],
      'ecs-service-action-placement-failure-ec2-cpu-docs.json': ['serviceAction'],
      'ecs-service-action-placement-failure-fargate-spot-docs.json': ['serviceAction'],
      'ecs-service-action-task-start-impaired-docs.json': ['serviceAction'],
    });
  });

  it('select the real STOPPED payloads once their clusters are configured, and nothing else more', () => {
    const clusters = ['default', 'test', 'DemoTrafficGen01-EcsCluster97242B84-u8PnqOAmk1tO', 'FargateCluster'];
    expect(selectedPayloads(clusters)).toEqual({
      'ecs-deployment-failed-docs.json': ['deployment'],
      'ecs-deployment-in-progress-rollback-docs.json': ['deployment'],
      'ecs-service-action-placement-failure-ec2-cpu-docs.json': ['serviceAction'],
      'ecs-service-action-placement-failure-fargate-spot-docs.json': ['serviceAction'],
      'ecs-service-action-task-start-impaired-docs.json': ['serviceAction'],
      // The RUNNING Fargate task of FargateCluster stays out: only STOPPED tasks are subscribed.
      'ecs-task-state-change-stopped-essential-exit-multicontainer.json': ['taskStopped'],
      'ecs-task-state-change-stopped-scaling-ec2-exit137.json': ['taskStopped'],
    });
  });

  it('leave out every event of a cluster that is not configured', () => {
    expect([...loadAwsEvents()].flatMap(([, event]) => rulesFor(['prod'], event))).toEqual([]);
    expect(rulesFor(['prod'], stoppedTask({ cluster: 'prod' }))).toEqual(['taskStopped']);
    expect(rulesFor(['prod'], stoppedTask({ cluster: 'prod-eu' }))).toEqual([]);
    // A suffix, not a substring: "a-prod" must not be taken for "prod".
    expect(rulesFor(['prod'], stoppedTask({ cluster: 'a-prod' }))).toEqual([]);
  });

  it('take a deployment rollback (IN_PROGRESS, "rolling back") but not a plain IN_PROGRESS or COMPLETED deployment', () => {
    const rollback = loadAwsEvent('ecs-deployment-in-progress-rollback-docs.json');
    expect(rulesFor(['default'], rollback)).toEqual(['deployment']);
    expect(rulesFor(['default'], loadAwsEvent('ecs-deployment-in-progress-docs.json'))).toEqual([]);
    expect(rulesFor(['default'], loadAwsEvent('ecs-deployment-completed-docs.json'))).toEqual([]);
    // The cluster of a deployment is in its service ARN only.
    expect(rulesFor(['other'], rollback)).toEqual([]);
    const oldArnFormat = { ...rollback, resources: ['arn:aws:ecs:us-west-2:111122223333:service/servicetest'] };
    expect(rulesFor(['default'], oldArnFormat)).toEqual([]);
  });

  it('take a container instance whose agent disconnected, not a connected one', () => {
    const connected = loadAwsEvent('ecs-container-instance-state-change-active-docs.json');
    expect(rulesFor(['default'], connected)).toEqual([]);
    const disconnected = { ...connected, detail: { ...connected.detail, agentConnected: false } };
    expect(rulesFor(['default'], disconnected)).toEqual(['agentDisconnected']);
  });

  it('leave out INFO service actions and non-STOPPED task changes in a configured cluster', () => {
    expect(rulesFor(['default'], loadAwsEvent('ecs-service-action-steady-state-docs.json'))).toEqual([]);
    expect(rulesFor(['default'], loadAwsEvent('ecs-task-state-change-container-exited-task-running-docs-2018.json'))).toEqual([]);
    const running = stoppedTask({ cluster: 'default' });
    running.detail.lastStatus = 'RUNNING';
    expect(rulesFor(['default'], running)).toEqual([]);
  });
});
