import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeCapacityProvidersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  type CapacityProvider,
  type ContainerInstance,
  type ECSClient,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import type { LifecycleResult } from './records.ts';

/**
 * The ECS and Auto Scaling calls the drain makes, each counted, so that a
 * drain can report how many calls it cost (metric ApiCallsPerDrain). One Api
 * per unit of work; the caches live as long as it does, i.e. one invocation.
 */

// ListTasks, ListContainerInstances and ListServices return at most 100 per page;
// DescribeTasks takes up to 100 tasks and DescribeServices up to 10 services (ECS API reference).
export const LIST_PAGE = 100;
export const DESCRIBE_TASKS_BATCH = 100;
export const DESCRIBE_SERVICES_BATCH = 10;
// "A list of up to 100 container instance IDs or full Amazon Resource Name (ARN) entries."
// (DescribeContainerInstances, ECS API Reference)
export const DESCRIBE_CONTAINER_INSTANCES_BATCH = 100;

/** A container instance the ec2InstanceId filter listed although it belongs to another EC2 instance. */
export interface Mismatch {
  cluster: string;
  arn: string;
  ec2InstanceId?: string;
}

export interface Located {
  found?: { cluster: string; arn: string; instance: ContainerInstance };
  mismatched: Mismatch[];
}

// DescribeAutoScalingGroups: MaxRecords "The default value is 50 and the maximum value is 100", and
// AutoScalingGroupNames "By default, you can only specify up to 50 names. You can optionally increase
// this limit using MaxRecords" (Amazon EC2 Auto Scaling API reference, DescribeAutoScalingGroups).
export const DESCRIBE_GROUPS_BATCH = 100;

/** The Auto Scaling message when a lifecycle action is over (completed, timed out, or its instance gone). */
const NO_ACTIVE_ACTION = /No active Lifecycle Action found/i;
export const isNoActiveAction = (error: unknown): boolean => {
  const e = error as { name?: string; Code?: string; message?: string };
  return (e?.name === 'ValidationError' || e?.Code === 'ValidationError') && NO_ACTIVE_ACTION.test(e.message ?? '');
};

export interface LifecycleActionRef {
  asg: string;
  hookName: string;
  token: string;
  instanceId: string;
  /** No known token: the action is named by its instance, which Complete and Heartbeat accept (API reference: "the specified token or instance"). */
  adopted?: boolean;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

export const lastSegment = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** What one invocation remembers between the Apis of its drains: the tick lists daemon services once per cluster. */
export interface ApiCache {
  daemons: Map<string, Promise<Set<string>>>;
  capacityProviders?: Promise<CapacityProvider[]>;
  /** Container instances the tick described in batches, by ARN (null: MISSING); each is used once, by its drain's next step. */
  containerInstances?: Map<string, ContainerInstance | null>;
}

export const newApiCache = (): ApiCache => ({ daemons: new Map() });

export class Api {
  calls = 0;
  // Plain fields, not parameter properties: Node's type stripping (the unbundled bench, tsx-free runs) rejects those.
  private readonly clients: { ecs: ECSClient; asg: AutoScalingClient };
  private readonly cache: ApiCache;

  constructor(clients: { ecs: ECSClient; asg: AutoScalingClient }, cache: ApiCache = newApiCache()) {
    this.clients = clients;
    this.cache = cache;
  }

  private ecs<O>(command: unknown): Promise<O> {
    this.calls++;
    return this.clients.ecs.send(command as never) as Promise<O>;
  }

  private asg<O>(command: unknown): Promise<O> {
    this.calls++;
    return this.clients.asg.send(command as never) as Promise<O>;
  }

  /**
   * The container instance of an EC2 instance, searched cluster by cluster
   * with the cluster query language. The filter's answer is not taken on
   * trust: each listed ARN is described (100 at a time, the DescribeContainerInstances
   * limit) and only one whose ec2InstanceId is the one asked for is returned.
   * The others come back as `mismatched`, for the caller to log; an emulator or
   * a bug that ignores the filter then drains nothing it should not.
   */
  async findContainerInstance(clusters: readonly string[], ec2InstanceId: string): Promise<Located> {
    const mismatched: Mismatch[] = [];
    for (const cluster of clusters) {
      let nextToken: string | undefined;
      do {
        const out = await this.ecs<{ containerInstanceArns?: string[]; nextToken?: string }>(
          new ListContainerInstancesCommand({ cluster, filter: `ec2InstanceId == ${ec2InstanceId}`, maxResults: LIST_PAGE, nextToken }),
        );
        for (const batch of chunks(out.containerInstanceArns ?? [], DESCRIBE_CONTAINER_INSTANCES_BATCH)) {
          const described = await this.ecs<{ containerInstances?: ContainerInstance[] }>(
            new DescribeContainerInstancesCommand({ cluster, containerInstances: batch }),
          );
          const byArn = new Map((described.containerInstances ?? []).map((ci) => [ci.containerInstanceArn, ci]));
          for (const arn of batch) {
            const instance = byArn.get(arn);
            if (instance?.ec2InstanceId === ec2InstanceId) return { found: { cluster, arn, instance }, mismatched };
            // Listed but not described: it might be ours, so "not registered" cannot be said.
            if (!instance) throw new Error(`ListContainerInstances listed ${arn} in ${cluster}, which DescribeContainerInstances does not return`);
            mismatched.push({ cluster, arn, ec2InstanceId: instance.ec2InstanceId });
          }
        }
        nextToken = out.nextToken;
      } while (nextToken);
    }
    return { mismatched };
  }

  async describeContainerInstance(cluster: string, arn: string): Promise<ContainerInstance | undefined> {
    const batched = this.cache.containerInstances?.get(arn);
    if (batched !== undefined) {
      this.cache.containerInstances!.delete(arn);
      return batched ?? undefined;
    }
    const out = await this.ecs<{ containerInstances?: ContainerInstance[] }>(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }));
    return out.containerInstances?.find((ci) => ci.containerInstanceArn === arn) ?? out.containerInstances?.[0];
  }

  /**
   * Many container instances of one cluster, 100 a call, by ARN; an ARN ECS
   * answers MISSING maps to null. Any other failure leaves the ARN out, so its
   * drain describes it on its own.
   */
  async describeContainerInstances(cluster: string, arns: readonly string[]): Promise<Map<string, ContainerInstance | null>> {
    const found = new Map<string, ContainerInstance | null>();
    for (const batch of chunks(arns, DESCRIBE_CONTAINER_INSTANCES_BATCH)) {
      const out = await this.ecs<{ containerInstances?: ContainerInstance[]; failures?: Array<{ arn?: string; reason?: string }> }>(
        new DescribeContainerInstancesCommand({ cluster, containerInstances: [...batch] }),
      );
      for (const ci of out.containerInstances ?? []) if (ci.containerInstanceArn) found.set(ci.containerInstanceArn, ci);
      for (const f of out.failures ?? []) if (f.arn && f.reason === 'MISSING') found.set(f.arn, null);
    }
    return found;
  }

  /** Returns the failure reason, if ECS reports one. */
  setDraining(cluster: string, arn: string): Promise<string | undefined> {
    return this.setStatus(cluster, arn, 'DRAINING');
  }

  /** Gives an instance back to the scheduler, when the drain turned out to be for nothing. Returns the failure reason, if any. */
  setActive(cluster: string, arn: string): Promise<string | undefined> {
    return this.setStatus(cluster, arn, 'ACTIVE');
  }

  /** The configured groups with their instances and LifecycleState, every page of them. */
  async describeGroups(names: readonly string[]): Promise<AutoScalingGroup[]> {
    const groups: AutoScalingGroup[] = [];
    for (const batch of chunks(names, DESCRIBE_GROUPS_BATCH)) {
      let NextToken: string | undefined;
      do {
        const out = await this.asg<{ AutoScalingGroups?: AutoScalingGroup[]; NextToken?: string }>(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [...batch], MaxRecords: DESCRIBE_GROUPS_BATCH, NextToken }),
        );
        groups.push(...(out.AutoScalingGroups ?? []));
        NextToken = out.NextToken;
      } while (NextToken);
    }
    return groups;
  }

  private async setStatus(cluster: string, arn: string, status: 'DRAINING' | 'ACTIVE'): Promise<string | undefined> {
    const out = await this.ecs<{ failures?: Array<{ reason?: string; detail?: string }> }>(
      new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arn], status }),
    );
    const failure = out.failures?.[0];
    return failure ? `${failure.reason ?? 'unknown'}${failure.detail ? ` (${failure.detail})` : ''}` : undefined;
  }

  /**
   * The tasks ECS lists on the container instance with this desired status.
   * STOPPED holds the ones still DEACTIVATING or STOPPING, and the recently
   * STOPPED. One call per page of 100.
   */
  async listTasks(cluster: string, containerInstance: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.ecs<{ taskArns?: string[]; nextToken?: string }>(
        new ListTasksCommand({ cluster, containerInstance, desiredStatus, maxResults: LIST_PAGE, nextToken }),
      );
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    return arns;
  }

  /** DescribeTasks in batches of 100; `missing` holds what ECS answered MISSING. */
  async describeTasks(cluster: string, refs: readonly string[]): Promise<{ tasks: Task[]; missing: string[] }> {
    const tasks: Task[] = [];
    const missing: string[] = [];
    for (const batch of chunks(refs, DESCRIBE_TASKS_BATCH)) {
      const out = await this.ecs<{ tasks?: Task[]; failures?: Array<{ arn?: string; reason?: string }> }>(new DescribeTasksCommand({ cluster, tasks: batch }));
      tasks.push(...(out.tasks ?? []));
      for (const f of out.failures ?? []) {
        // Only MISSING says something about the task; any other failure says nothing, and the check must not guess.
        if (f.reason !== 'MISSING') throw new Error(`DescribeTasks failed for ${f.arn ?? 'a task'} in cluster ${cluster}: ${f.reason ?? 'no reason given'}`);
        if (f.arn) missing.push(f.arn);
      }
    }
    return { tasks, missing };
  }

  /** Names of the cluster's DAEMON services, listed once per invocation and cluster. */
  daemonServices(cluster: string): Promise<Set<string>> {
    let cached = this.cache.daemons.get(cluster);
    if (!cached) {
      cached = (async () => {
        const names = new Set<string>();
        let nextToken: string | undefined;
        do {
          const out = await this.ecs<{ serviceArns?: string[]; nextToken?: string }>(
            new ListServicesCommand({ cluster, schedulingStrategy: 'DAEMON', maxResults: LIST_PAGE, nextToken }),
          );
          for (const arn of out.serviceArns ?? []) names.add(lastSegment(arn));
          nextToken = out.nextToken;
        } while (nextToken);
        return names;
      })();
      // A failed listing is not cached: the next check tries again.
      cached.catch(() => this.cache.daemons.delete(cluster));
      this.cache.daemons.set(cluster, cached);
    }
    return cached;
  }

  async describeServices(cluster: string, names: readonly string[]): Promise<Service[]> {
    const services: Service[] = [];
    for (const batch of chunks(names, DESCRIBE_SERVICES_BATCH)) {
      const out = await this.ecs<{ services?: Service[] }>(new DescribeServicesCommand({ cluster, services: [...batch] }));
      services.push(...(out.services ?? []));
    }
    return services;
  }

  /** The capacity provider whose Auto Scaling group is `asg`, if any. */
  async capacityProviderOf(asg: string): Promise<CapacityProvider | undefined> {
    const cache = this.cache;
    cache.capacityProviders ??= (async () => {
      const all: CapacityProvider[] = [];
      let nextToken: string | undefined;
      do {
        const out = await this.ecs<{ capacityProviders?: CapacityProvider[]; nextToken?: string }>(new DescribeCapacityProvidersCommand({ nextToken }));
        all.push(...(out.capacityProviders ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return all;
    })();
    // A failed listing is not cached either.
    cache.capacityProviders.catch(() => (cache.capacityProviders = undefined));
    const all = await cache.capacityProviders;
    // An ASG ARN ends with `:autoScalingGroupName/<name>` (EC2 Auto Scaling user guide, resource ARNs).
    return all.find((cp) => cp.status !== 'INACTIVE' && cp.autoScalingGroupProvider?.autoScalingGroupArn?.endsWith(`:autoScalingGroupName/${asg}`));
  }

  async stopTask(cluster: string, task: string, reason: string): Promise<void> {
    await this.ecs(new StopTaskCommand({ cluster, task, reason }));
  }

  async completeLifecycleAction(action: LifecycleActionRef, result: LifecycleResult): Promise<void> {
    await this.asg(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: action.asg,
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.adopted ? undefined : action.token,
        InstanceId: action.instanceId,
        LifecycleActionResult: result,
      }),
    );
  }

  async heartbeat(action: LifecycleActionRef): Promise<void> {
    await this.asg(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: action.asg,
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.adopted ? undefined : action.token,
        InstanceId: action.instanceId,
      }),
    );
  }
}
