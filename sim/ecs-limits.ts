import type { RateLimits } from './throttle.ts';

/**
 * The ECS API's request throttling: "API actions are grouped into categories.
 * All API actions in a category share the same token bucket", with a bucket
 * maximum capacity (burst) and a refill rate (sustained) per category, per
 * account and Region. Numbers from the table "Request Token Bucket Sizes and
 * Refill Rates", Amazon ECS API Reference, "Request throttling for the Amazon
 * ECS API" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
 * Fargate's additional RunTask limits are not modelled.
 */
const CATEGORIES: Record<string, { capacity: number; refillPerSecond: number; actions: string[] }> = {
  'cluster-modify': {
    capacity: 20,
    refillPerSecond: 1,
    actions: ['CreateCluster', 'DeleteCluster', 'PutClusterCapacityProviders', 'UpdateCluster', 'UpdateClusterSettings'],
  },
  'cluster-read': { capacity: 50, refillPerSecond: 20, actions: ['DescribeClusters', 'ListClusters'] },
  'task-definition-modify': { capacity: 20, refillPerSecond: 1, actions: ['DeregisterTaskDefinition', 'RegisterTaskDefinition'] },
  'task-definition-read': { capacity: 50, refillPerSecond: 20, actions: ['DescribeTaskDefinition', 'ListTaskDefinitions', 'ListTaskDefinitionFamilies'] },
  'task-definition-delete': { capacity: 5, refillPerSecond: 1, actions: ['DeleteTaskDefinitions'] },
  'capacity-provider-modify': { capacity: 10, refillPerSecond: 1, actions: ['CreateCapacityProvider', 'DeleteCapacityProvider', 'UpdateCapacityProvider'] },
  'capacity-provider-read': { capacity: 50, refillPerSecond: 20, actions: ['DescribeCapacityProviders'] },
  'tag-modify': { capacity: 20, refillPerSecond: 10, actions: ['TagResource', 'UntagResource'] },
  'tag-read': { capacity: 50, refillPerSecond: 20, actions: ['ListTagsForResource'] },
  'setting-modify': { capacity: 10, refillPerSecond: 1, actions: ['DeleteAccountSetting', 'PutAccountSetting', 'PutAccountSettingDefault'] },
  'setting-read': { capacity: 50, refillPerSecond: 20, actions: ['ListAccountSettings'] },
  // The page spells the last one UpdateContainerInstancesStates; the API action is UpdateContainerInstancesState.
  'cluster-resource-modify': {
    capacity: 100,
    refillPerSecond: 40,
    actions: [
      'DeleteAttributes',
      'DeregisterContainerInstance',
      'ExecuteCommand',
      'PutAttributes',
      'RunTask',
      'StartTask',
      'StopTask',
      'UpdateContainerAgent',
      'UpdateContainerInstancesState',
    ],
  },
  'cluster-resource-read': {
    capacity: 100,
    refillPerSecond: 20,
    actions: ['DescribeContainerInstances', 'DescribeTasks', 'ListAttributes', 'ListContainerInstances', 'ListTasks'],
  },
  'agent-modify': {
    capacity: 200,
    refillPerSecond: 120,
    actions: ['RegisterContainerInstance', 'SubmitAttachmentStateChanges', 'SubmitContainerStateChange', 'SubmitTaskStateChange'],
  },
  'service-modify': { capacity: 50, refillPerSecond: 5, actions: ['CreateService', 'DeleteService', 'UpdateService'] },
  'service-read': { capacity: 100, refillPerSecond: 20, actions: ['DescribeServices', 'ListServices'] },
  'service-deployment': { capacity: 50, refillPerSecond: 20, actions: ['DescribeServiceDeployments', 'ListServiceDeployments'] },
  'service-revision': { capacity: 50, refillPerSecond: 20, actions: ['DescribeServiceRevisions'] },
  'task-protection': { capacity: 200, refillPerSecond: 80, actions: ['UpdateTaskProtection', 'GetTaskProtection'] },
  'cluster-service-resource-read': { capacity: 10, refillPerSecond: 1, actions: ['ListServicesByNamespace'] },
};

const CATEGORY_OF = new Map(Object.entries(CATEGORIES).flatMap(([category, { actions }]) => actions.map((action) => [action, category] as const)));

export const ECS_RATE_LIMITS: RateLimits = {
  categoryOf: (op) => CATEGORY_OF.get(op),
  buckets: Object.fromEntries(Object.entries(CATEGORIES).map(([category, { capacity, refillPerSecond }]) => [category, { capacity, refillPerSecond }])),
};

/** The documented bucket of an ECS action, for reports (peak calls per second against the limit). */
export const ecsBucketOf = (op: string) => {
  const category = CATEGORY_OF.get(op);
  return category === undefined ? undefined : { category, ...CATEGORIES[category]! };
};
