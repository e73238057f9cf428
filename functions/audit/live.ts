/**
 * Reads what the audit needs from a live cluster: the services, the task
 * definitions they run and their target groups. Read-only calls only
 * (ListServices, DescribeServices, DescribeTaskDefinition; DescribeTargetGroups,
 * DescribeTargetGroupAttributes).
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServicesCommand,
  type ECSClient,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { AuditInput, TargetGroup, TargetGroupAttribute, TargetGroupInput } from './rules.ts';

/**
 * The two ELBv2 reads, behind an interface so that tests can count and fake
 * them; elbv2.ts implements it over the SDK client.
 */
export interface Elbv2Reader {
  /** The target groups that exist among `arns`; a deleted one is left out rather than failing the rest. */
  describeTargetGroups(arns: string[]): Promise<TargetGroup[]>;
  describeTargetGroupAttributes(arn: string): Promise<TargetGroupAttribute[]>;
}

export interface LiveClients {
  ecs: ECSClient;
  elbv2: Elbv2Reader;
}

export interface LiveScope {
  cluster: string;
  /** Names or ARNs; all services of the cluster when empty. */
  services: string[];
}

/** A failure the operator can act on (wrong name, no access); the CLI prints it and exits 2. */
export class LiveAuditError extends Error {
  override name = 'LiveAuditError';
}

// DescribeServices accepts at most 10 services per call (ECS API reference, DescribeServices).
const DESCRIBE_SERVICES_MAX = 10;

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LiveAuditError) throw error;
    const e = error as Error;
    throw new LiveAuditError(`${what} failed: ${e.name}: ${e.message}`);
  }
}

export async function collectLive(clients: LiveClients, scope: LiveScope): Promise<{ input: AuditInput; notes: string[] }> {
  const { ecs } = clients;
  const { cluster } = scope;
  const notes: string[] = [];

  let names = scope.services;
  if (names.length === 0) {
    names = [];
    let nextToken: string | undefined;
    do {
      const page = await call(`ListServices on cluster "${cluster}"`, () => ecs.send(new ListServicesCommand({ cluster, nextToken, maxResults: 100 })));
      names.push(...(page.serviceArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    if (names.length === 0) notes.push(`cluster "${cluster}" has no services`);
  }

  const services: Service[] = [];
  for (let i = 0; i < names.length; i += DESCRIBE_SERVICES_MAX) {
    const batch = names.slice(i, i + DESCRIBE_SERVICES_MAX);
    const out = await call(`DescribeServices on cluster "${cluster}"`, () => ecs.send(new DescribeServicesCommand({ cluster, services: batch })));
    const missing = (out.failures ?? []).map((f) => `${f.arn ?? '?'} (${f.reason ?? 'unknown reason'})`);
    if (missing.length > 0) throw new LiveAuditError(`cluster "${cluster}": cannot describe service ${missing.join(', ')}`);
    for (const s of out.services ?? []) {
      // A deleted service stays describable as INACTIVE for a while; it runs nothing.
      if (s.status === 'INACTIVE') notes.push(`skipped ${s.serviceArn ?? s.serviceName}: INACTIVE`);
      else services.push(s);
    }
  }

  const taskDefinitions: TaskDefinition[] = [];
  for (const arn of new Set(services.map((s) => s.taskDefinition).filter((t): t is string => !!t))) {
    const out = await call(`DescribeTaskDefinition ${arn}`, () => ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })));
    if (out.taskDefinition) taskDefinitions.push(out.taskDefinition);
  }

  // Classic Load Balancers appear as loadBalancerName without a target group: ELBv2 has nothing to say about them.
  const tgArns = [...new Set(services.flatMap((s) => (s.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a)))];
  const targetGroups: TargetGroupInput[] = [];
  const { elbv2 } = clients;
  const groups = tgArns.length === 0 ? [] : await call('DescribeTargetGroups', () => elbv2.describeTargetGroups(tgArns));
  for (const arn of tgArns) {
    if (!groups.some((g) => g.TargetGroupArn === arn))
      notes.push(`target group ${arn} not found (deleted?): its health check and deregistration settings were not audited`);
  }
  for (const targetGroup of groups) {
    const arn = targetGroup.TargetGroupArn;
    const attributes = arn ? await call(`DescribeTargetGroupAttributes ${arn}`, () => elbv2.describeTargetGroupAttributes(arn)) : [];
    targetGroups.push({ targetGroup, attributes });
  }

  return { input: { services, taskDefinitions, targetGroups }, notes };
}
