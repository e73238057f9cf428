import type { EventPattern } from '../shared/event-pattern.ts';

/**
 * The EventBridge patterns the drain function subscribes to. They depend on
 * the configuration (ASG names, hook name, clusters), so they are built here
 * and used both by infra/functions/drain.ts (the rules) and by the handler,
 * which re-checks every event against them.
 */

export const LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';
export const TASK_DETAIL_TYPE = 'ECS Task State Change';
export const CONTAINER_INSTANCE_DETAIL_TYPE = 'ECS Container Instance State Change';
export const SPOT_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';

/** Both ARN formats end with `:cluster/<name>`; only the suffix is stable across partitions, regions and accounts. */
const clusterSuffixes = (clusters: readonly string[]) => clusters.map((name) => ({ suffix: `:cluster/${name}` }));

/** Our hook on our ASGs only: another team's hook on the same group must never be completed by us. */
export const lifecycleActionPattern = (asgs: readonly string[], hookName: string) =>
  ({
    source: ['aws.autoscaling'],
    'detail-type': [LIFECYCLE_DETAIL_TYPE],
    detail: { AutoScalingGroupName: [...asgs], LifecycleHookName: [hookName] },
  }) satisfies EventPattern;

/**
 * Only STOPPED can make the done test pass, so the earlier transitions of a
 * task (DEACTIVATING, STOPPING, ...) are not worth an invocation. Fargate tasks
 * have no container instance and never sit on one of our instances.
 */
export const taskStoppedPattern = (clusters: readonly string[]) =>
  ({
    source: ['aws.ecs'],
    'detail-type': [TASK_DETAIL_TYPE],
    detail: {
      clusterArn: clusterSuffixes(clusters),
      lastStatus: ['STOPPED'],
      containerInstanceArn: [{ exists: true }],
    },
  }) satisfies EventPattern;

/**
 * A DRAINING instance's own events (one per task that leaves it). ACTIVE
 * instances, the bulk of a cluster's container instance events, are left out:
 * a drained instance that someone set ACTIVE again is caught by the next done
 * check, which reads the status from the API.
 */
export const containerInstanceDrainingPattern = (clusters: readonly string[]) =>
  ({
    source: ['aws.ecs'],
    'detail-type': [CONTAINER_INSTANCE_DETAIL_TYPE],
    detail: { clusterArn: clusterSuffixes(clusters), status: ['DRAINING'] },
  }) satisfies EventPattern;

/** The warning names only the EC2 instance; whether it is one of ours is found with ListContainerInstances. */
export const spotInterruptionPattern = {
  source: ['aws.ec2'],
  'detail-type': [SPOT_DETAIL_TYPE],
} satisfies EventPattern;

export interface DrainPatterns {
  lifecycle?: EventPattern;
  taskStopped: EventPattern;
  containerInstance: EventPattern;
  spot?: EventPattern;
}

/** Every pattern a deployment with this configuration subscribes to. No ASG configured: no lifecycle rule. */
export function drainPatterns(config: {
  clusters: ReadonlyArray<{ name: string; asgs: readonly string[] }>;
  drain: { hookName: string; spotInterruption: boolean };
}): DrainPatterns {
  const clusters = config.clusters.map((c) => c.name);
  const asgs = config.clusters.flatMap((c) => c.asgs);
  return {
    lifecycle: asgs.length ? lifecycleActionPattern(asgs, config.drain.hookName) : undefined,
    taskStopped: taskStoppedPattern(clusters),
    containerInstance: containerInstanceDrainingPattern(clusters),
    spot: config.drain.spotInterruption ? spotInterruptionPattern : undefined,
  };
}
