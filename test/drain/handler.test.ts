/**
 * The real drain handler (middy, Powertools, DRAIN_CONFIG, SDK clients built
 * from AWS_ENDPOINT_URL_*) against the simulator and dynalite.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { drainPatterns } from '../../functions/drain/events.ts';
import { parseConfig } from '../../functions/shared/config.ts';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { createTable, startSim, type Sim } from '../../sim/index.ts';
import { settingsFromConfig } from '../../functions/drain/settings.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { fakeContext } from '../../sim/lambda.ts';

const config = parseConfig({
  clusters: [{ name: 'prod', asgs: ['prod-asg'] }],
  drain: { heartbeatTimeoutSeconds: 300, spotInterruption: true },
});
const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
const metricNames = () => addMetric.mock.calls.map(([name]) => name);

let sim: Sim;
let world: DrainWorld;
let handler: (event: unknown, context: Context) => Promise<any>;
const invoke = (event: unknown) => handler(event, fakeContext('cc-test-drain', 60_000));
let instances = 0;

beforeAll(async () => {
  // The handler's clock is Date.now: the simulation starts at the real time so that event times agree with it.
  sim = await startSim({ seed: 5 });
  world = installDrainWorld(sim);
  Object.assign(process.env, sim.env(), {
    TABLE_NAME: 'drain-handler-it',
    DRAIN_CONFIG: JSON.stringify(settingsFromConfig(config)),
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  await createTable(sim.dynamo.endpoint, 'drain-handler-it');
  ({ handler } = await import('../../functions/drain/handler.ts'));
  const patterns = drainPatterns(config);
  for (const [name, pattern] of Object.entries(patterns)) if (pattern) sim.bus.subscribePattern(`drain-${name}`, pattern, (event) => invoke(event));
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0a5a7e' });
  world.autoscaling.addGroup('prod-asg');
  world.autoscaling.putLifecycleHook('prod-asg', { name: config.drain.hookName, heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
  sim.ecs.defineTaskDefinition('api');
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  addMetric.mockClear();
  sim.faults.clear();
});

/** A fresh instance in prod with two service tasks. */
async function instanceWithTasks(): Promise<{ ec2: string; arn: string }> {
  const ec2 = `i-0${(++instances).toString(16).padStart(6, '0')}`;
  const instance = sim.ecs.addContainerInstance('prod', { ec2InstanceId: ec2 });
  world.services.addService('prod', { name: `svc${instances}`, taskDefinition: 'api', on: [{ instance: instance.arn, count: 2 }] });
  await sim.clock.advance(10_000);
  return { ec2, arn: instance.arn };
}

describe('drain handler', () => {
  it('drains an instance end to end: lifecycle event, DRAINING, STOPPED events, CONTINUE', async () => {
    const { ec2, arn } = await instanceWithTasks();
    const [action] = world.autoscaling.terminate('prod-asg', ec2);
    for (let i = 0; i < 60 && action!.status === 'pending'; i++) await sim.clock.advance(1_000);
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    const stoppedAt = Math.max(...sim.ecs.tasks({ containerInstance: arn }).map((t) => t.stoppedAt!));
    expect(action!.completedAt!).toBeGreaterThanOrEqual(stoppedAt);
    expect(metricNames()).toEqual(expect.arrayContaining(['DrainStarted', 'DrainCompleted', 'DrainDurationSeconds', 'ApiCallsPerDrain']));
  });

  it('rejects a malformed lifecycle event with an error naming the field, completes nothing, and leaves it to the DLQ', async () => {
    const documented = loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');
    const { LifecycleActionToken: _, ...detail } = { ...documented.detail, AutoScalingGroupName: 'prod-asg', LifecycleHookName: config.drain.hookName };
    const before = world.autoscaling.completeCalls.length;
    await expect(invoke({ ...documented, detail })).rejects.toThrow(/detail\.LifecycleActionToken/);
    await expect(
      invoke({ source: 'aws.ecs', 'detail-type': 'ECS Task State Change', detail: { clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' } }),
    ).rejects.toThrow(/detail\.taskArn/);
    await expect(invoke('not an event')).rejects.toThrow('expected a JSON object, got string');
    expect(world.autoscaling.completeCalls.length).toBe(before);
    expect(metricNames().filter((n) => n === 'InvocationFailed')).toHaveLength(3);

    // Through the bus, the rejection is what sends the event to Lambda's retries and then to the DLQ.
    const failures = sim.bus.failures.length;
    sim.bus.put({ ...documented, time: new Date(sim.clock.now()).toISOString(), detail } as never);
    await sim.bus.drain();
    expect(sim.bus.failures.length).toBe(failures + 1);
    expect(String(sim.bus.failures.at(-1)!.error)).toContain('detail.LifecycleActionToken');
  });

  it('continues at once for an instance leaving the warm pool once ECS says it is not registered (ECS_WARM_POOLS_CHECK=true)', async () => {
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0feed', { origin: 'WarmPool', destination: 'EC2' });
    const drainingCalls = sim.calls.filter((c) => c.op === 'UpdateContainerInstancesState').length;
    await sim.bus.drain();
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    expect(sim.calls.filter((c) => c.op === 'ListContainerInstances' && c.input.filter === 'ec2InstanceId == i-0feed')).toHaveLength(1);
    expect(sim.calls.filter((c) => c.op === 'UpdateContainerInstancesState')).toHaveLength(drainingCalls);
    expect(metricNames()).toContain('DrainSkippedWarmPool');
  });

  it('drains an instance going from the group into the warm pool like a termination', async () => {
    const { ec2, arn } = await instanceWithTasks();
    const [action] = world.autoscaling.terminate('prod-asg', ec2, { origin: 'AutoScalingGroup', destination: 'WarmPool' });
    await sim.clock.advance(1_500);
    expect(action!.status).toBe('pending');
    expect(sim.ecs.containerInstance(arn)?.status).toBe('DRAINING');
    for (let i = 0; i < 60 && action!.status === 'pending'; i++) await sim.clock.advance(1_000);
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE' });
    expect(action!.completedAt!).toBeGreaterThanOrEqual(Math.max(...sim.ecs.tasks({ containerInstance: arn }).map((t) => t.stoppedAt!)));
  });

  it('sets an instance DRAINING on its Spot interruption warning', async () => {
    const { ec2, arn } = await instanceWithTasks();
    const warning = loadAwsEvent('ec2-spot-interruption-warning-docs.json');
    sim.bus.put({
      ...warning,
      time: new Date(sim.clock.now()).toISOString(),
      resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${ec2}`],
      detail: { 'instance-id': ec2, 'instance-action': 'terminate' },
    } as never);
    await sim.bus.drain();
    expect(sim.ecs.containerInstance(arn)?.status).toBe('DRAINING');
    expect(metricNames()).toContain('SpotDrainStarted');
    // Unknown to every cluster: nothing to do, and no error.
    sim.bus.put({ ...warning, time: new Date(sim.clock.now()).toISOString(), detail: { 'instance-id': 'i-0404', 'instance-action': 'terminate' } } as never);
    const failures = sim.bus.failures.length;
    await sim.bus.drain();
    expect(sim.bus.failures.length).toBe(failures);
  });

  it('runs the reconcile tick on the Scheduled Event of its rule', async () => {
    const result = await invoke(loadAwsEvent('scheduled-event-rule-dotnet.json'));
    expect(result).toMatchObject({ open: expect.any(Number), heartbeats: expect.any(Number), deferred: 0 });
  });
});
