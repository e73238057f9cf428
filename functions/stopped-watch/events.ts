import type { EventPattern } from '../shared/event-pattern.ts';

/**
 * The EventBridge patterns stopped-watch subscribes with, one rule each,
 * scoped to the configured clusters so that a shared account's other clusters
 * never invoke it. The handler re-checks events against the same patterns,
 * because events relayed through SNS bypass the rules.
 */

// Cluster names are [A-Za-z0-9_-] (ECS CreateCluster), so they need no escaping in a wildcard.
const clusterArnSuffixes = (clusters: readonly string[]) => clusters.map((name) => ({ suffix: `:cluster/${name}` }));

export function taskStoppedPattern(clusters: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: { lastStatus: ['STOPPED'], clusterArn: clusterArnSuffixes(clusters) },
  } satisfies EventPattern;
}

/** Placement failures and SERVICE_TASK_START_IMPAIRED are WARN/ERROR; the INFO steady-state events are noise here. */
export function serviceActionPattern(clusters: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Service Action'],
    detail: { eventType: ['WARN', 'ERROR'], clusterArn: clusterArnSuffixes(clusters) },
  } satisfies EventPattern;
}

/**
 * Deployment State Change carries no clusterArn: its cluster is only in the
 * service ARN in `resources` (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>).
 * A rollback is an IN_PROGRESS event whose reason says "rolling back"
 * (ECS developer guide, "Amazon ECS deployment state change events").
 */
export function deploymentPattern(clusters: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: clusters.map((name) => ({ wildcard: `arn:*:ecs:*:*:service/${name}/*` })),
    detail: {
      $or: [{ eventName: ['SERVICE_DEPLOYMENT_FAILED'] }, { eventName: ['SERVICE_DEPLOYMENT_IN_PROGRESS'], reason: [{ wildcard: '*rolling back*' }] }],
    },
  } satisfies EventPattern;
}

export function agentDisconnectedPattern(clusters: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Container Instance State Change'],
    detail: { agentConnected: [false], clusterArn: clusterArnSuffixes(clusters) },
  } satisfies EventPattern;
}

/** Every rule of the function, by a name infra uses in the rule's description. */
export function stoppedWatchPatterns(clusters: readonly string[]): Record<'taskStopped' | 'serviceAction' | 'deployment' | 'agentDisconnected', EventPattern> {
  return {
    taskStopped: taskStoppedPattern(clusters),
    serviceAction: serviceActionPattern(clusters),
    deployment: deploymentPattern(clusters),
    agentDisconnected: agentDisconnectedPattern(clusters),
  };
}
