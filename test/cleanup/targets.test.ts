/**
 * Which instances a cleanup scope reaches (functions/cleanup/targets.ts), against
 * a small fake of the ECS and SSM read APIs that answers like the real ones:
 * ListContainerInstances pages (maxResults, nextToken) and its `ec2InstanceId ==`
 * filter, DescribeContainerInstances' current status, and
 * DescribeInstanceInformation failing the whole call with InvalidInstanceId when
 * one id of the batch is not a valid (e.g. terminated) instance.
 */
import {
  DescribeContainerInstancesCommand,
  ECSClient,
  ListContainerInstancesCommand,
  type ContainerInstance,
  type ListContainerInstancesCommandInput,
} from '@aws-sdk/client-ecs';
import { DescribeInstanceInformationCommand, SSMClient, type DescribeInstanceInformationCommandInput, type InstanceInformation } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DESCRIBE_CONTAINER_INSTANCES_MAX, DESCRIBE_INSTANCE_INFORMATION_MAX, LIST_CONTAINER_INSTANCES_MAX } from '../../functions/cleanup/plan.ts';
import { resolveScope, type TargetDeps } from '../../functions/cleanup/targets.ts';

const ACCOUNT = '123456789012';
const ciArn = (cluster: string, n: number) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:container-instance/${cluster}/${n.toString(16).padStart(32, '0')}`;
const ec2Id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;

interface FakeInstance {
  arn: string;
  ec2: string;
  /** What ListContainerInstances(status ACTIVE) says. */
  listed: 'ACTIVE' | 'DRAINING';
  /** What DescribeContainerInstances says a moment later (a drain may have started since). */
  described?: 'ACTIVE' | 'DRAINING' | 'DEREGISTERED';
}

/** The ECS and SSM views the fake answers from. */
interface World {
  clusters: Record<string, FakeInstance[]>;
  ssm: Map<string, InstanceInformation>;
  /** Ids SSM refuses as not valid: the whole DescribeInstanceInformation call fails. */
  invalid: Set<string>;
}

const ecsMock = mockClient(ECSClient);
const ssmMock = mockClient(SSMClient);
let world: World;

function online(id: string, platform: InstanceInformation['PlatformType'] = 'Linux'): [string, InstanceInformation] {
  return [id, { InstanceId: id, PingStatus: 'Online', PlatformType: platform }];
}

/** n container instances in `cluster`, ACTIVE, on EC2 instances numbered from `first`, all Online Linux in SSM. */
function fleet(cluster: string, count: number, first = 1): FakeInstance[] {
  const instances = Array.from({ length: count }, (_, i) => ({ arn: ciArn(cluster, first + i), ec2: ec2Id(first + i), listed: 'ACTIVE' as const }));
  for (const ci of instances) world.ssm.set(...online(ci.ec2));
  return instances;
}

function installFakes(): void {
  ecsMock.on(ListContainerInstancesCommand).callsFake(async (input: ListContainerInstancesCommandInput) => {
    const filterMatch = input.filter ? /^ec2InstanceId == (\S+)$/.exec(input.filter) : null;
    if (input.filter && !filterMatch) throw Object.assign(new Error(`unsupported filter ${input.filter}`), { name: 'InvalidParameterException' });
    const matching = (world.clusters[input.cluster!] ?? []).filter((ci) => ci.listed === input.status && (!filterMatch || ci.ec2 === filterMatch[1]));
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = Math.min(input.maxResults ?? 100, 100);
    const page = matching.slice(start, start + size);
    const next = start + size < matching.length ? String(start + size) : undefined;
    return { containerInstanceArns: page.map((ci) => ci.arn), nextToken: next };
  });
  ecsMock.on(DescribeContainerInstancesCommand).callsFake(async (input: { cluster: string; containerInstances: string[] }) => {
    if (input.containerInstances.length > 100)
      throw Object.assign(new Error('containerInstances can have at most 100 items'), { name: 'InvalidParameterException' });
    const all = world.clusters[input.cluster] ?? [];
    const containerInstances: ContainerInstance[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const arn of input.containerInstances) {
      const ci = all.find((c) => c.arn === arn);
      if (!ci) failures.push({ arn, reason: 'MISSING' });
      else containerInstances.push({ containerInstanceArn: ci.arn, ec2InstanceId: ci.ec2, status: ci.described ?? ci.listed });
    }
    return { containerInstances, failures };
  });
  ssmMock.on(DescribeInstanceInformationCommand).callsFake(async (input: DescribeInstanceInformationCommandInput) => {
    const ids = input.Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
    if (ids.length > 50) throw Object.assign(new Error('too many ids'), { name: 'ValidationException' });
    if (ids.some((id) => world.invalid.has(id))) throw Object.assign(new Error('Invalid instance id'), { name: 'InvalidInstanceId' });
    const known = ids.map((id) => world.ssm.get(id)).filter((info): info is InstanceInformation => info !== undefined);
    // Real pages are at most MaxResults long; this fake returns pages of 2 to exercise NextToken.
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = known.slice(start, start + 2);
    return { InstanceInformationList: page, NextToken: start + 2 < known.length ? String(start + 2) : undefined };
  });
}

const deps = (clusters: readonly string[] = ['prod']): TargetDeps => ({
  ecs: new ECSClient({ region: 'eu-west-1' }),
  ssm: new SSMClient({ region: 'eu-west-1' }),
  clusters,
});

beforeEach(() => {
  ecsMock.reset();
  ssmMock.reset();
  world = { clusters: {}, ssm: new Map(), invalid: new Set() };
  installFakes();
});

describe('cluster scope', () => {
  it('sends to every ACTIVE, Online, Linux instance of the cluster, and sorts out the rest by why it cannot be reached', async () => {
    world.clusters.prod = fleet('prod', 6);
    const [eligible, lost, windows, unmanaged, noPlatform] = world.clusters.prod.map((ci) => ci.ec2);
    world.ssm.set(lost!, { InstanceId: lost, PingStatus: 'ConnectionLost', PlatformType: 'Linux' });
    world.ssm.set(windows!, { InstanceId: windows, PingStatus: 'Online', PlatformType: 'Windows' });
    world.ssm.delete(unmanaged!);
    // An Online agent that does not report its platform is not assumed to be another OS.
    world.ssm.set(noPlatform!, { InstanceId: noPlatform, PingStatus: 'Online' });

    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution).toEqual({
      clusters: [
        { cluster: 'prod', eligible: [eligible, noPlatform, world.clusters.prod[5]!.ec2], notManaged: [unmanaged], offline: [lost], unsupported: [windows] },
      ],
      notActive: { ids: [], cluster: 'prod' },
    });
  });

  it('asks ECS only for ACTIVE container instances, one full page after another', async () => {
    world.clusters.prod = fleet('prod', 250);
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]!.eligible).toHaveLength(250);
    const lists = ecsMock.commandCalls(ListContainerInstancesCommand).map((c) => c.args[0].input);
    expect(lists).toHaveLength(3);
    for (const input of lists) expect(input).toMatchObject({ cluster: 'prod', status: 'ACTIVE', maxResults: LIST_CONTAINER_INSTANCES_MAX });
    expect(lists.map((i) => i.nextToken)).toEqual([undefined, '100', '200']);
    // DescribeContainerInstances takes at most 100 a call.
    const described = ecsMock.commandCalls(DescribeContainerInstancesCommand).map((c) => c.args[0].input.containerInstances!.length);
    expect(described).toEqual([DESCRIBE_CONTAINER_INSTANCES_MAX, DESCRIBE_CONTAINER_INSTANCES_MAX, 50]);
  });

  it('leaves out a DRAINING instance, even one that started draining between the list and the describe', async () => {
    world.clusters.prod = fleet('prod', 3);
    world.clusters.prod[0]!.listed = 'DRAINING';
    world.clusters.prod[1]!.described = 'DRAINING';
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]!.eligible).toEqual([world.clusters.prod[2]!.ec2]);
    // Those are on their way out: not reported as unreachable either.
    expect(resolution.clusters[0]).toMatchObject({ notManaged: [], offline: [], unsupported: [] });
  });

  it('sends once to an EC2 instance that ECS lists under two container instance ARNs (agent re-registered)', async () => {
    world.clusters.prod = fleet('prod', 2);
    world.clusters.prod.push({ arn: ciArn('prod', 99), ec2: world.clusters.prod[0]!.ec2, listed: 'ACTIVE' });
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]!.eligible).toEqual([world.clusters.prod[0]!.ec2, world.clusters.prod[1]!.ec2]);
  });

  it('an empty cluster resolves to no target and touches no SSM API', async () => {
    world.clusters.prod = [];
    expect(await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' })).toEqual({
      clusters: [{ cluster: 'prod', eligible: [], notManaged: [], offline: [], unsupported: [] }],
      notActive: { ids: [], cluster: 'prod' },
    });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(0);
  });
});

describe('the SSM view', () => {
  it('is read 50 ids a call, every page of each', async () => {
    world.clusters.prod = fleet('prod', 120);
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]!.eligible).toHaveLength(120);
    const calls = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
    for (const input of calls) expect(input.MaxResults).toBe(DESCRIBE_INSTANCE_INFORMATION_MAX);
    const batches = calls.filter((i) => i.NextToken === undefined).map((i) => i.Filters![0]!.Values!.length);
    expect(batches).toEqual([50, 50, 20]);
  });

  it('one terminated instance does not hide the live ones of its batch: it alone counts as not managed', async () => {
    world.clusters.prod = fleet('prod', 50);
    const dead = world.clusters.prod[17]!.ec2;
    world.invalid.add(dead);
    world.ssm.delete(dead);
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]!.notManaged).toEqual([dead]);
    expect(resolution.clusters[0]!.eligible).toEqual(world.clusters.prod.map((ci) => ci.ec2).filter((id) => id !== dead));
  });

  it('two refused ids in one batch are each isolated; the others are still sorted', async () => {
    world.clusters.prod = fleet('prod', 7);
    const ids = world.clusters.prod.map((ci) => ci.ec2);
    for (const dead of [ids[0]!, ids[6]!]) world.invalid.add(dead);
    world.ssm.set(ids[3]!, { InstanceId: ids[3], PingStatus: 'ConnectionLost', PlatformType: 'Linux' });
    const resolution = await resolveScope(deps(), { kind: 'cluster', cluster: 'prod' });
    expect(resolution.clusters[0]).toEqual({
      cluster: 'prod',
      eligible: [ids[1], ids[2], ids[4], ids[5]],
      notManaged: [ids[0], ids[6]],
      offline: [ids[3]],
      unsupported: [],
    });
  });

  it('any other SSM error fails the resolution instead of calling instances unmanaged', async () => {
    world.clusters.prod = fleet('prod', 3);
    ssmMock.on(DescribeInstanceInformationCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(resolveScope(deps(), { kind: 'cluster', cluster: 'prod' })).rejects.toThrow('Rate exceeded');
  });
});

describe('container-instance scope (a Container Instance State Change or a stopped task names it)', () => {
  it('goes to the EC2 instance ECS says the container instance runs on now', async () => {
    world.clusters.prod = fleet('prod', 2);
    const [target] = world.clusters.prod;
    const resolution = await resolveScope(deps(), {
      kind: 'container-instance',
      cluster: 'prod',
      containerInstanceArn: target!.arn,
      ec2InstanceId: 'i-0stale00000000000',
    });
    expect(resolution).toEqual({
      clusters: [{ cluster: 'prod', eligible: [target!.ec2], notManaged: [], offline: [], unsupported: [] }],
      notActive: { ids: [], cluster: 'prod' },
    });
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)[0]!.args[0].input).toEqual({ cluster: 'prod', containerInstances: [target!.arn] });
  });

  it('a container instance that is no longer ACTIVE is reported by its EC2 id, else by its ARN, and gets nothing', async () => {
    world.clusters.prod = fleet('prod', 1);
    const [draining] = world.clusters.prod;
    draining!.described = 'DRAINING';
    expect(
      await resolveScope(deps(), { kind: 'container-instance', cluster: 'prod', containerInstanceArn: draining!.arn, ec2InstanceId: draining!.ec2 }),
    ).toEqual({
      clusters: [],
      notActive: { ids: [draining!.ec2], cluster: 'prod' },
    });
    const gone = ciArn('prod', 404);
    expect(await resolveScope(deps(), { kind: 'container-instance', cluster: 'prod', containerInstanceArn: gone })).toEqual({
      clusters: [],
      notActive: { ids: [gone], cluster: 'prod' },
    });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(0);
  });
});

describe('instances scope (a disk alarm names EC2 instances)', () => {
  it('finds each instance in the configured cluster that runs it, with the cluster query language', async () => {
    world.clusters.prod = fleet('prod', 2);
    world.clusters.batch = fleet('batch', 2, 10);
    const [p1] = world.clusters.prod;
    const [, b2] = world.clusters.batch;
    const resolution = await resolveScope(deps(['prod', 'batch']), { kind: 'instances', instanceIds: [b2!.ec2, p1!.ec2] });
    expect(resolution).toEqual({
      clusters: [
        { cluster: 'prod', eligible: [p1!.ec2], notManaged: [], offline: [], unsupported: [] },
        { cluster: 'batch', eligible: [b2!.ec2], notManaged: [], offline: [], unsupported: [] },
      ],
      notActive: { ids: [], cluster: undefined },
    });
    const filters = ecsMock.commandCalls(ListContainerInstancesCommand).map((c) => [c.args[0].input.cluster, c.args[0].input.filter, c.args[0].input.status]);
    // Found in prod: not looked for again in batch.
    expect(filters).toEqual([
      ['prod', `ec2InstanceId == ${b2!.ec2}`, 'ACTIVE'],
      ['prod', `ec2InstanceId == ${p1!.ec2}`, 'ACTIVE'],
      ['batch', `ec2InstanceId == ${b2!.ec2}`, 'ACTIVE'],
    ]);
  });

  it('groups several instances of one cluster into one target list', async () => {
    world.clusters.prod = fleet('prod', 3);
    const ids = world.clusters.prod.map((ci) => ci.ec2);
    const resolution = await resolveScope(deps(['prod']), { kind: 'instances', instanceIds: ids });
    expect(resolution.clusters).toEqual([{ cluster: 'prod', eligible: ids, notManaged: [], offline: [], unsupported: [] }]);
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)[0]!.args[0].input.Filters).toEqual([{ Key: 'InstanceIds', Values: ids }]);
  });

  it('the clusters named by the trigger narrow the search, and name the cluster of what was not found', async () => {
    world.clusters.prod = fleet('prod', 1);
    world.clusters.batch = fleet('batch', 1, 10);
    const inBatch = world.clusters.batch[0]!.ec2;
    const resolution = await resolveScope(deps(['prod', 'batch']), { kind: 'instances', instanceIds: [inBatch], clusters: ['prod'] });
    expect(resolution).toEqual({ clusters: [], notActive: { ids: [inBatch], cluster: 'prod' } });
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map((c) => c.args[0].input.cluster)).toEqual(['prod']);
  });

  it('an instance in no configured cluster, or DRAINING, is reported as not active and gets nothing', async () => {
    world.clusters.prod = fleet('prod', 2);
    world.clusters.prod[1]!.listed = 'DRAINING';
    const stranger = 'i-0abcdef0123456789';
    const resolution = await resolveScope(deps(['prod']), {
      kind: 'instances',
      instanceIds: [world.clusters.prod[0]!.ec2, world.clusters.prod[1]!.ec2, stranger],
    });
    expect(resolution.clusters.map((c) => c.eligible)).toEqual([[world.clusters.prod[0]!.ec2]]);
    expect(resolution.notActive).toEqual({ ids: [world.clusters.prod[1]!.ec2, stranger], cluster: 'prod' });
  });
});
