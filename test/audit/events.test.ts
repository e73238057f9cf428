import { describe, expect, it } from 'vitest';
import { deploymentFinishedPattern } from '../../functions/audit/events.ts';
import { parseInvocation } from '../../functions/audit/input.ts';
import { assertValidPattern, matchesPattern } from '../../functions/shared/event-pattern.ts';
import { loadAwsEvent, loadAwsEvents } from '../support/fixtures.ts';

const selected = (clusters: string[]) =>
  [...loadAwsEvents()].filter(([, event]) => matchesPattern(deploymentFinishedPattern(clusters), event)).map(([file]) => file);

describe('the deployment rule of the audit function', () => {
  it('is valid EventBridge syntax, for one cluster and for several', () => {
    for (const clusters of [['default'], ['prod', 'staging_2', 'a-b']]) expect(() => assertValidPattern(deploymentFinishedPattern(clusters))).not.toThrow();
  });

  it('selects exactly the completed and failed deployments among every real payload, for a config whose cluster is "default"', () => {
    expect(selected(['default'])).toEqual(['ecs-deployment-completed-docs.json', 'ecs-deployment-failed-docs.json']);
  });

  it('selects nothing of a cluster that is not configured', () => {
    expect(selected(['prod'])).toEqual([]);
    const completed = loadAwsEvent('ecs-deployment-completed-docs.json');
    // A suffix of the cluster name is another cluster.
    for (const cluster of ['a-default', 'default-eu']) {
      expect(matchesPattern(deploymentFinishedPattern([cluster]), completed)).toBe(false);
    }
    expect(matchesPattern(deploymentFinishedPattern(['other', 'default']), completed)).toBe(true);
  });

  it('leaves out deployments still in progress, rollbacks included, and services with the old ARN format', () => {
    const pattern = deploymentFinishedPattern(['default']);
    expect(matchesPattern(pattern, loadAwsEvent('ecs-deployment-in-progress-docs.json'))).toBe(false);
    expect(matchesPattern(pattern, loadAwsEvent('ecs-deployment-in-progress-rollback-docs.json'))).toBe(false);
    const oldArn = { ...loadAwsEvent('ecs-deployment-completed-docs.json'), resources: ['arn:aws:ecs:us-west-2:111122223333:service/servicetest'] };
    expect(matchesPattern(pattern, oldArn)).toBe(false);
  });

  it('delivers only events the handler accepts', () => {
    for (const file of selected(['default'])) {
      expect(parseInvocation(loadAwsEvent(file))).toMatchObject({ kind: 'deployment', cluster: 'default', service: 'servicetest' });
    }
  });
});
