import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Scope } from './input.ts';
import { chunk, DESCRIBE_CONTAINER_INSTANCES_MAX, DESCRIBE_INSTANCE_INFORMATION_MAX, LIST_CONTAINER_INSTANCES_MAX } from './plan.ts';

/**
 * Which EC2 instances of a scope the command may go to: ACTIVE container
 * instances (a DRAINING one is on its way out and its tasks are moving; it is
 * not listed at all) whose SSM Agent is registered and Online, on Linux (the
 * document's precondition).
 */

export interface TargetDeps {
  ecs: ECSClient;
  ssm: SSMClient;
  clusters: readonly string[];
}

/** What a scope resolved to: the instances per cluster, and those named by the trigger that are no ACTIVE container instance. */
export interface Resolution {
  clusters: ClusterTargets[];
  /** DRAINING, deregistered, or not in any configured cluster; `cluster` when the trigger named one. */
  notActive: { ids: string[]; cluster?: string };
}

export interface ClusterTargets {
  cluster: string;
  /** Will be sent the command (after deduplication). */
  eligible: string[];
  /** Unknown to Systems Manager (no agent, no instance profile, stopped): never reachable by Run Command. */
  notManaged: string[];
  /** Registered in SSM but its agent is not Online (ConnectionLost). */
  offline: string[];
  /** Online but not Linux, where the document's precondition would skip the script. */
  unsupported: string[];
}

const errorName = (error: unknown): string | undefined => (error as { name?: string })?.name;

async function listActive(ecs: ECSClient, cluster: string, filter?: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(new ListContainerInstancesCommand({ cluster, status: 'ACTIVE', filter, maxResults: LIST_CONTAINER_INSTANCES_MAX, nextToken }));
    arns.push(...(out.containerInstanceArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/** EC2 instance ids of the container instances that are still ACTIVE when described. */
async function describeActive(ecs: ECSClient, cluster: string, arns: string[]): Promise<Map<string, string>> {
  const byArn = new Map<string, string>();
  for (const page of chunk(arns, DESCRIBE_CONTAINER_INSTANCES_MAX)) {
    const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: page }));
    for (const ci of out.containerInstances ?? []) {
      // Listed ACTIVE a moment ago: a drain may have started since.
      if (ci.status === 'ACTIVE' && ci.ec2InstanceId && ci.containerInstanceArn) byArn.set(ci.containerInstanceArn, ci.ec2InstanceId);
    }
  }
  return byArn;
}

type SsmState = { pingStatus?: string; platformType?: string };

/**
 * The SSM view of `ids`, 50 a call. DescribeInstanceInformation fails the whole
 * call when one id is not valid (SSM API reference: "If you specify a node ID
 * that isn't valid ... you receive an error"), e.g. an instance terminated
 * since ECS listed it: the batch is then split until the culprit stands alone
 * and counts as not managed, so one dead instance cannot hide 49 live ones.
 */
async function ssmStates(ssm: SSMClient, ids: string[]): Promise<Map<string, SsmState>> {
  const states = new Map<string, SsmState>();
  const describe = async (batch: string[]): Promise<void> => {
    try {
      let nextToken: string | undefined;
      do {
        const out = await ssm.send(
          new DescribeInstanceInformationCommand({
            Filters: [{ Key: 'InstanceIds', Values: batch }],
            MaxResults: DESCRIBE_INSTANCE_INFORMATION_MAX,
            NextToken: nextToken,
          }),
        );
        for (const info of out.InstanceInformationList ?? []) {
          if (info.InstanceId) states.set(info.InstanceId, { pingStatus: info.PingStatus, platformType: info.PlatformType });
        }
        nextToken = out.NextToken;
      } while (nextToken);
    } catch (error) {
      if (errorName(error) !== 'InvalidInstanceId') throw error;
      // Alone and still refused: it stays out of `states`, i.e. counts as not managed.
      if (batch.length === 1) return;
      const half = Math.ceil(batch.length / 2);
      await describe(batch.slice(0, half));
      await describe(batch.slice(half));
    }
  };
  for (const batch of chunk(ids, DESCRIBE_INSTANCE_INFORMATION_MAX)) await describe(batch);
  return states;
}

async function sortBySsm(ssm: SSMClient, cluster: string, ids: string[]): Promise<ClusterTargets> {
  const states = await ssmStates(ssm, ids);
  const targets: ClusterTargets = { cluster, eligible: [], notManaged: [], offline: [], unsupported: [] };
  for (const id of ids) {
    const state = states.get(id);
    if (!state) targets.notManaged.push(id);
    else if (state.pingStatus !== 'Online') targets.offline.push(id);
    else if (state.platformType !== undefined && state.platformType !== 'Linux') targets.unsupported.push(id);
    else targets.eligible.push(id);
  }
  return targets;
}

export async function resolveScope(deps: TargetDeps, scope: Scope): Promise<Resolution> {
  const { ecs, ssm } = deps;
  switch (scope.kind) {
    case 'cluster': {
      const byArn = await describeActive(ecs, scope.cluster, await listActive(ecs, scope.cluster));
      return { clusters: [await sortBySsm(ssm, scope.cluster, [...new Set(byArn.values())])], notActive: { ids: [], cluster: scope.cluster } };
    }
    case 'container-instance': {
      const byArn = await describeActive(ecs, scope.cluster, [scope.containerInstanceArn]);
      const ec2 = byArn.get(scope.containerInstanceArn);
      // ECS's answer wins over the event's ec2InstanceId: it is the instance the container instance runs on now.
      if (!ec2) return { clusters: [], notActive: { ids: [scope.ec2InstanceId ?? scope.containerInstanceArn], cluster: scope.cluster } };
      return { clusters: [await sortBySsm(ssm, scope.cluster, [ec2])], notActive: { ids: [], cluster: scope.cluster } };
    }
    case 'instances': {
      const candidates = scope.clusters ?? deps.clusters;
      const found = new Map<string, string[]>();
      const placed = new Set<string>();
      for (const cluster of candidates) {
        for (const id of scope.instanceIds) {
          if (placed.has(id)) continue;
          // Cluster query language: `ec2InstanceId == i-...` (ECS developer guide, "Cluster query language").
          const arns = await listActive(ecs, cluster, `ec2InstanceId == ${id}`);
          if (arns.length === 0) continue;
          placed.add(id);
          found.set(cluster, [...(found.get(cluster) ?? []), id]);
        }
      }
      const clusters: ClusterTargets[] = [];
      for (const [cluster, ids] of found) clusters.push(await sortBySsm(ssm, cluster, ids));
      return { clusters, notActive: { ids: scope.instanceIds.filter((id) => !placed.has(id)), cluster: candidates.length === 1 ? candidates[0] : undefined } };
    }
  }
}
