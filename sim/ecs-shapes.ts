import type { Cluster, Task } from './ecs-types.ts';

/**
 * Wire shapes. The API (awsJson1_1) sends timestamps as epoch seconds, the
 * EventBridge detail as ISO strings with milliseconds; otherwise the task
 * looks the same in both (compare a DescribeTasks reply with
 * test/fixtures/aws-events/ecs-task-state-change-*.json).
 */
type Stamp = (ms: number) => number | string;

export const epochSeconds: Stamp = (ms) => ms / 1000;
export const isoTime: Stamp = (ms) => new Date(ms).toISOString();

const defined = <T extends object>(shape: T): T => Object.fromEntries(Object.entries(shape).filter(([, v]) => v !== undefined)) as T;

function containers(task: Task) {
  return task.containers.map((c) =>
    defined({
      containerArn: c.arn,
      taskArn: task.arn,
      name: c.name,
      image: c.image,
      runtimeId: c.runtimeId,
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
      networkInterfaces: [],
      cpu: '0',
    }),
  );
}

function attachments(task: Task) {
  if (!task.awsvpc) return [];
  const status = { PROVISIONING: 'PRECREATED', DEPROVISIONING: 'DETACHING', STOPPED: 'DELETED' }[task.lastStatus as string] ?? 'ATTACHED';
  const subnet = task.networkConfiguration?.awsvpcConfiguration?.subnets?.[0];
  return [{ id: `eni-attachment-${task.id.slice(0, 8)}`, type: 'eni', status, details: subnet ? [{ name: 'subnetId', value: subnet }] : [] }];
}

function taskShape(task: Task, stamp: Stamp) {
  const time = (ms: number | undefined) => (ms === undefined ? undefined : stamp(ms));
  return defined({
    attachments: attachments(task),
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: task.availabilityZone,
    capacityProviderName: task.capacityProviderName,
    clusterArn: task.clusterArn,
    connectivity: task.connectivity,
    connectivityAt: time(task.connectivityAt),
    containerInstanceArn: task.containerInstanceArn,
    containers: containers(task),
    cpu: String(task.reserved.cpu),
    createdAt: time(task.createdAt),
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: task.enableExecuteCommand,
    executionStoppedAt: time(task.executionStoppedAt),
    group: task.group,
    launchType: task.launchType,
    lastStatus: task.lastStatus,
    memory: String(task.reserved.memory),
    overrides: task.overrides,
    platformVersion: task.platformVersion,
    pullStartedAt: time(task.pullStartedAt),
    pullStoppedAt: time(task.pullStoppedAt),
    startedAt: time(task.startedAt),
    startedBy: task.startedBy,
    stoppingAt: time(task.stoppingAt),
    stoppedAt: time(task.stoppedAt),
    stoppedReason: task.stoppedReason,
    stopCode: task.stopCode,
    taskArn: task.arn,
    taskDefinitionArn: task.taskDefinition.arn,
    version: task.version,
  });
}

/** DescribeTasks / RunTask / StopTask. Tags only when the caller asked (DescribeTasks include: ['TAGS']); RunTask echoes them. */
export function apiTask(task: Task, opts: { tags?: boolean } = {}) {
  return defined({ ...taskShape(task, epochSeconds), healthStatus: 'UNKNOWN', tags: opts.tags ? task.tags : undefined });
}

/** The `detail` of an "ECS Task State Change" event. */
export function eventTaskDetail(task: Task) {
  return { ...taskShape(task, isoTime), updatedAt: isoTime(task.updatedAt) };
}

/** DescribeClusters: tags, settings and statistics only when `include` asks for them, as documented. */
export function apiCluster(cluster: Cluster, tasks: Task[], instances: number, include: string[] = []) {
  const mine = tasks.filter((t) => t.clusterName === cluster.name && t.lastStatus !== 'STOPPED');
  return defined({
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    status: 'ACTIVE',
    registeredContainerInstancesCount: instances,
    runningTasksCount: mine.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: mine.filter((t) => t.lastStatus === 'PENDING' || t.lastStatus === 'PROVISIONING').length,
    activeServicesCount: 0,
    statistics: include.includes('STATISTICS') ? [] : undefined,
    tags: include.includes('TAGS') ? cluster.tags : undefined,
    settings: include.includes('SETTINGS') ? [{ name: 'containerInsights', value: 'disabled' }] : undefined,
    capacityProviders: [],
    defaultCapacityProviderStrategy: [],
  });
}
