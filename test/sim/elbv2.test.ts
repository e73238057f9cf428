/**
 * The simulator's ELBv2 (awsQuery, XML) through the real
 * @aws-sdk/client-elastic-load-balancing-v2 client.
 */
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALB_TARGET_GROUP_ATTRIBUTES, installElbv2, type Elbv2Sim } from '../../sim/elbv2.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { credentials } from './clients.ts';

let sim: Sim;
let elbv2: Elbv2Sim;
let client: ElasticLoadBalancingV2Client;

beforeEach(async () => {
  sim = await startSim({ start: new Date('2026-11-23T02:00:00Z'), seed: 3 });
  elbv2 = installElbv2(sim);
  client = new ElasticLoadBalancingV2Client({ endpoint: sim.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await sim.close();
});

describe('DescribeTargetGroups', () => {
  it('answers with the CreateTargetGroup defaults, typed as the SDK parses them from XML', async () => {
    const tg = elbv2.createTargetGroup({ Name: 'web', Protocol: 'HTTP', Port: 8080, TargetType: 'ip' });
    elbv2.attachLoadBalancer(tg.TargetGroupArn, 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/public/50dc6c495c0c9188');
    const out = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn] }));
    expect(out.TargetGroups).toEqual([
      {
        TargetGroupArn: expect.stringMatching(/^arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup\/web\/[0-9a-f]{16}$/),
        TargetGroupName: 'web',
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: expect.stringMatching(/^vpc-/),
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckEnabled: true,
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 6,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        HealthCheckPath: '/',
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/public/50dc6c495c0c9188'],
        TargetType: 'ip',
        ProtocolVersion: 'HTTP1',
        IpAddressType: 'ipv4',
      },
    ]);
    expect(out.NextMarker).toBeUndefined();
    expect(sim.countCalls('elbv2', 'DescribeTargetGroups')).toBe(1);
  });

  it('pages with PageSize and NextMarker, and lists every group without a filter', async () => {
    for (const name of ['a', 'b', 'c']) elbv2.createTargetGroup({ Name: name });
    const first = await client.send(new DescribeTargetGroupsCommand({ PageSize: 2 }));
    expect(first.TargetGroups!.map((g) => g.TargetGroupName)).toEqual(['a', 'b']);
    const second = await client.send(new DescribeTargetGroupsCommand({ PageSize: 2, Marker: first.NextMarker }));
    expect(second.TargetGroups!.map((g) => g.TargetGroupName)).toEqual(['c']);
    expect(second.NextMarker).toBeUndefined();
  });

  it('fails the whole call with TargetGroupNotFound when one ARN is unknown', async () => {
    const tg = elbv2.createTargetGroup({ Name: 'web' });
    const gone = tg.TargetGroupArn.replace('/web/', '/gone/');
    const error = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn, gone] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetGroupNotFoundException);
    expect((error as Error).message).toBe('One or more target groups not found');
  });

  it('refuses a PageSize outside 1-400 and two filters at once with ValidationError', async () => {
    const tg = elbv2.createTargetGroup({ Name: 'web' });
    await expect(client.send(new DescribeTargetGroupsCommand({ PageSize: 401 }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn], Names: ['web'] }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});

describe('DescribeTargetGroupAttributes', () => {
  it('lists the Application Load Balancer defaults with the changed values', async () => {
    const tg = elbv2.createTargetGroup({ Name: 'web', Protocol: 'HTTPS' }, { 'deregistration_delay.timeout_seconds': '5' });
    elbv2.setAttributes(tg.TargetGroupArn, { 'slow_start.duration_seconds': '30' });
    const out = await client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }));
    const attributes = Object.fromEntries(out.Attributes!.map((a) => [a.Key, a.Value]));
    expect(attributes).toEqual({ ...ALB_TARGET_GROUP_ATTRIBUTES, 'deregistration_delay.timeout_seconds': '5', 'slow_start.duration_seconds': '30' });
    // The empty app cookie name survives the XML round trip as an empty string.
    expect(attributes['stickiness.app_cookie.cookie_name']).toBe('');
  });

  it('answers TargetGroupNotFoundException for an unknown group', async () => {
    await expect(
      client.send(
        new DescribeTargetGroupAttributesCommand({ TargetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/none/0123456789abcdef' }),
      ),
    ).rejects.toBeInstanceOf(TargetGroupNotFoundException);
  });
});

it('appears in sim.env() under the variable the SDK reads for "Elastic Load Balancing v2"', () => {
  expect(sim.env().AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2).toBe(sim.endpoint);
});
