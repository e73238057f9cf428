import type { EventPattern } from '../shared/event-pattern.ts';

/**
 * A deployment that has finished, either way, in one of the configured
 * clusters: the moment a service's settings and task definition may have
 * changed. ECS Deployment State Change carries no clusterArn; the cluster is
 * only in the service ARN in `resources`
 * (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>), hence the
 * wildcard (ECS developer guide, "Amazon ECS deployment state change events").
 * Cluster names are [A-Za-z0-9_-] (CreateCluster), so they need no escaping.
 */
export const DEPLOYMENT_FINISHED = ['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED'] as const;

export function deploymentFinishedPattern(clusters: readonly string[]) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: clusters.map((name) => ({ wildcard: `arn:*:ecs:*:*:service/${name}/*` })),
    detail: { eventName: [...DEPLOYMENT_FINISHED] },
  } satisfies EventPattern;
}
