import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import type { Sim } from './index.ts';
import { decodeToken, encodeToken } from './page-token.ts';
import { queryResult } from './protocols/query.ts';
import { hex, mulberry32, type Random } from './random.ts';

/**
 * Elastic Load Balancing v2 over awsQuery (Version 2015-12-01, XML replies),
 * as @aws-sdk/client-elastic-load-balancing-v2 calls it, for the target groups
 * of Application Load Balancers: DescribeTargetGroups and
 * DescribeTargetGroupAttributes. Tests create target groups with
 * `createTargetGroup`, which takes CreateTargetGroup's input and applies its
 * documented defaults.
 *
 * Error codes are ELBv2's awsQuery codes (TargetGroupNotFound,
 * ValidationError), which the SDK turns into TargetGroupNotFoundException and
 * a ValidationError.
 */

export const ELBV2_NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
// PageSize: "Valid Range: Minimum value of 1. Maximum value of 400." (DescribeTargetGroups, ELBv2 API reference)
export const ELBV2_PAGE_SIZE_MAX = 400;
// "can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen" (CreateTargetGroup Name)
const NAME = /^(?!-)[A-Za-z0-9-]{1,32}(?<!-)$/;

export type AlbProtocol = 'HTTP' | 'HTTPS';

/** CreateTargetGroup's input, for the target groups ECS services register with an Application Load Balancer. */
export interface CreateTargetGroupInput {
  Name: string;
  Protocol?: AlbProtocol;
  Port?: number;
  VpcId?: string;
  TargetType?: 'instance' | 'ip';
  HealthCheckProtocol?: AlbProtocol;
  HealthCheckPort?: string;
  HealthCheckPath?: string;
  HealthCheckIntervalSeconds?: number;
  HealthCheckTimeoutSeconds?: number;
  HealthyThresholdCount?: number;
  UnhealthyThresholdCount?: number;
  Matcher?: { HttpCode?: string };
}

export interface SimTargetGroup {
  description: Record<string, unknown> & { TargetGroupArn: string; TargetGroupName: string };
  attributes: Map<string, string>;
  seq: number;
}

/**
 * The attributes DescribeTargetGroupAttributes lists for a new Application
 * Load Balancer target group, with their defaults (ELB user guide for
 * Application Load Balancers, "Target group attributes").
 */
export const ALB_TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({
  'deregistration_delay.timeout_seconds': '300',
  'load_balancing.algorithm.type': 'round_robin',
  'load_balancing.algorithm.anomaly_mitigation': 'off',
  'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
  'slow_start.duration_seconds': '0',
  'stickiness.enabled': 'false',
  'stickiness.type': 'lb_cookie',
  'stickiness.lb_cookie.duration_seconds': '86400',
  'stickiness.app_cookie.cookie_name': '',
  'stickiness.app_cookie.duration_seconds': '86400',
  'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
});

const validation = (message: string) => new SimError('ValidationError', message);
const notFound = () => new SimError('TargetGroupNotFound', 'One or more target groups not found');

function inRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`sim: ${name} must be an integer from ${min} to ${max} (CreateTargetGroup)`);
}

export class Elbv2Sim {
  private readonly groups: SimTargetGroup[] = [];

  constructor(private readonly deps: { ids: Random; region: string; account: string }) {}

  /**
   * CreateTargetGroup with its documented defaults for HTTP/HTTPS: interval
   * 30 s, timeout 6 s (HTTP) or 10 s (HTTPS), healthy threshold 5, unhealthy
   * threshold 2, path "/", port "traffic-port", matcher "200", target type
   * instance (CreateTargetGroup, ELBv2 API reference).
   */
  createTargetGroup(input: CreateTargetGroupInput, attributes: Record<string, string> = {}): SimTargetGroup['description'] {
    if (!NAME.test(input.Name)) throw new Error(`sim: invalid target group name "${input.Name}" (CreateTargetGroup Name)`);
    if (this.groups.some((g) => g.description.TargetGroupName === input.Name)) throw new Error(`sim: a target group named ${input.Name} exists already`);
    inRange('HealthCheckIntervalSeconds', input.HealthCheckIntervalSeconds, 5, 300);
    inRange('HealthCheckTimeoutSeconds', input.HealthCheckTimeoutSeconds, 2, 120);
    inRange('HealthyThresholdCount', input.HealthyThresholdCount, 2, 10);
    inRange('UnhealthyThresholdCount', input.UnhealthyThresholdCount, 2, 10);
    const protocol = input.Protocol ?? 'HTTP';
    const arn = `arn:aws:elasticloadbalancing:${this.deps.region}:${this.deps.account}:targetgroup/${input.Name}/${hex(this.deps.ids, 16)}`;
    const description = {
      TargetGroupArn: arn,
      TargetGroupName: input.Name,
      Protocol: protocol,
      Port: input.Port ?? 80,
      VpcId: input.VpcId ?? 'vpc-0sim0000000000000',
      HealthCheckProtocol: input.HealthCheckProtocol ?? 'HTTP',
      HealthCheckPort: input.HealthCheckPort ?? 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: input.HealthCheckIntervalSeconds ?? 30,
      HealthCheckTimeoutSeconds: input.HealthCheckTimeoutSeconds ?? (protocol === 'HTTP' ? 6 : 10),
      HealthyThresholdCount: input.HealthyThresholdCount ?? 5,
      UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? 2,
      HealthCheckPath: input.HealthCheckPath ?? '/',
      Matcher: { HttpCode: input.Matcher?.HttpCode ?? '200' },
      LoadBalancerArns: [] as string[],
      TargetType: input.TargetType ?? 'instance',
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    };
    for (const key of Object.keys(attributes)) {
      if (!(key in ALB_TARGET_GROUP_ATTRIBUTES)) throw new Error(`sim: "${key}" is not an attribute of an Application Load Balancer target group`);
    }
    this.groups.push({ description, attributes: new Map(Object.entries({ ...ALB_TARGET_GROUP_ATTRIBUTES, ...attributes })), seq: this.groups.length });
    return structuredClone(description);
  }

  /** ModifyTargetGroupAttributes, for tests that change a group after creating it. */
  setAttributes(arn: string, attributes: Record<string, string>): void {
    const group = this.require(arn);
    for (const [key, value] of Object.entries(attributes)) {
      if (!group.attributes.has(key)) throw new Error(`sim: "${key}" is not an attribute of ${arn}`);
      group.attributes.set(key, value);
    }
  }

  /** The load balancers that route to the group, as DescribeTargetGroups lists them. */
  attachLoadBalancer(arn: string, loadBalancerArn: string): void {
    const list = this.require(arn).description.LoadBalancerArns as string[];
    if (!list.includes(loadBalancerArn)) list.push(loadBalancerArn);
  }

  private require(arn: string): SimTargetGroup {
    const group = this.groups.find((g) => g.description.TargetGroupArn === arn);
    if (!group) throw new Error(`sim: no target group ${arn}`);
    return group;
  }

  service(): ServiceDef {
    return {
      name: 'elbv2',
      sdkServiceId: 'Elastic Load Balancing v2',
      protocol: 'awsQuery',
      version: '2015-12-01',
      serverErrorCode: 'InternalFailure',
      operations: {
        DescribeTargetGroups: (input) => {
          const arns: string[] | undefined = input.TargetGroupArns;
          const names: string[] | undefined = input.Names;
          const filters = [input.LoadBalancerArn, arns, names].filter((f) => f !== undefined).length;
          // "you can specify one of the following to filter the results" (DescribeTargetGroups)
          if (filters > 1) throw validation('Only one of LoadBalancerArn, TargetGroupArns or Names can be specified');
          if (input.LoadBalancerArn !== undefined) throw validation('sim: the LoadBalancerArn filter is not modelled');
          const pageSize = input.PageSize === undefined ? ELBV2_PAGE_SIZE_MAX : Number(input.PageSize);
          if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > ELBV2_PAGE_SIZE_MAX)
            throw validation(`PageSize must be between 1 and ${ELBV2_PAGE_SIZE_MAX}`);
          let after: number;
          try {
            after = decodeToken(input.Marker);
          } catch {
            throw validation('Invalid Marker');
          }

          let matching: SimTargetGroup[];
          if (arns !== undefined || names !== undefined) {
            const wanted = new Set(arns ?? names);
            const key = arns !== undefined ? 'TargetGroupArn' : 'TargetGroupName';
            matching = this.groups.filter((g) => wanted.has(g.description[key] as string));
            // One unknown ARN or name fails the whole call: nothing is returned for the others.
            if (new Set(matching.map((g) => g.description[key])).size < wanted.size) throw notFound();
          } else {
            matching = [...this.groups];
          }
          matching = matching.filter((g) => g.seq > after);
          const page = matching.slice(0, pageSize);
          const last = page[page.length - 1];
          return queryResult('DescribeTargetGroups', ELBV2_NAMESPACE, {
            TargetGroups: page.map((g) => g.description),
            ...(matching.length > pageSize && last ? { NextMarker: encodeToken(last.seq) } : {}),
          });
        },

        DescribeTargetGroupAttributes: (input) => {
          const arn: unknown = input.TargetGroupArn;
          if (typeof arn !== 'string' || arn === '')
            throw validation("1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null");
          const group = this.groups.find((g) => g.description.TargetGroupArn === arn);
          if (!group) throw notFound();
          return queryResult('DescribeTargetGroupAttributes', ELBV2_NAMESPACE, {
            Attributes: [...group.attributes].map(([Key, Value]) => ({ Key, Value })),
          });
        },
      },
    };
  }
}

/** Registers ELBv2 with the simulator; its endpoint then appears in sim.env() as AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2. */
export function installElbv2(sim: Sim, opts: { seed?: number } = {}): Elbv2Sim {
  const elbv2 = new Elbv2Sim({ ids: mulberry32(opts.seed ?? 0xe1b2), region: sim.region, account: sim.account });
  sim.register(elbv2.service());
  return elbv2;
}
