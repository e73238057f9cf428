/**
 * The live audit's ELBv2 reader over the real SDK client and the simulator:
 * batches, pages, and a deleted target group among live ones.
 */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { elbv2Reader, TARGET_GROUPS_PER_CALL } from '../../functions/audit/elbv2.ts';
import type { Elbv2Reader } from '../../functions/audit/live.ts';
import { installElbv2, type Elbv2Sim } from '../../sim/elbv2.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { credentials } from '../sim/clients.ts';

let sim: Sim;
let elbv2: Elbv2Sim;
let client: ElasticLoadBalancingV2Client;
let reader: Elbv2Reader;

beforeEach(async () => {
  sim = await startSim({ seed: 2 });
  elbv2 = installElbv2(sim);
  client = new ElasticLoadBalancingV2Client({ endpoint: sim.endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
  reader = elbv2Reader(client);
});
afterEach(async () => {
  client.destroy();
  await sim.close();
});

const asked = () => sim.calls.filter((c) => c.op === 'DescribeTargetGroups').map((c) => (c.input.TargetGroupArns as string[]).length);

it(`asks for ${TARGET_GROUPS_PER_CALL} target groups per call`, async () => {
  const arns = Array.from({ length: 45 }, (_, i) => elbv2.createTargetGroup({ Name: `tg-${i}` }).TargetGroupArn);
  const groups = await reader.describeTargetGroups(arns);
  expect(groups.map((g) => g.TargetGroupArn)).toEqual(arns);
  expect(asked()).toEqual([20, 20, 5]);
  expect(sim.calls.every((c) => c.input.PageSize === '400')).toBe(true);
});

it('leaves out a deleted target group and still returns the others of its batch', async () => {
  const arns = Array.from({ length: 23 }, (_, i) => elbv2.createTargetGroup({ Name: `tg-${i}` }).TargetGroupArn);
  const deleted = arns[0]!.replace('/tg-0/', '/deleted/');
  const groups = await reader.describeTargetGroups([...arns.slice(0, 21), deleted, ...arns.slice(21)]);
  expect(groups.map((g) => g.TargetGroupArn)).toEqual(arns);
  // The first batch of 20 is whole; the second fails on the deleted one and is asked again one by one.
  expect(asked()).toEqual([20, 4, 1, 1, 1, 1]);
  expect(sim.calls.filter((c) => c.error === 'TargetGroupNotFound')).toHaveLength(2);
});

it('reads a group’s attributes', async () => {
  const tg = elbv2.createTargetGroup({ Name: 'web' }, { 'deregistration_delay.timeout_seconds': '20' });
  const attributes = await reader.describeTargetGroupAttributes(tg.TargetGroupArn);
  expect(attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '20' });
});

it('lets any other error through', async () => {
  sim.faults.failNext('elbv2', 'DescribeTargetGroups', 'AccessDenied', 1, {
    message: 'User is not authorized to perform: elasticloadbalancing:DescribeTargetGroups',
  });
  const tg = elbv2.createTargetGroup({ Name: 'web' });
  await expect(reader.describeTargetGroups([tg.TargetGroupArn])).rejects.toMatchObject({ name: 'AccessDenied' });
});
