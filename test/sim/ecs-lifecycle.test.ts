/**
 * Task lifecycle on the simulated clock, as seen through EventBridge
 * "ECS Task State Change" events.
 */
import { type ECSClient, RunTaskCommand, StopTaskCommand, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ECS_TIMING, startSim, type AwsEvent, type Sim } from '../../sim/index.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { ecsClient } from './clients.ts';

let sim: Sim;
let ecs: ECSClient;
let events: AwsEvent[];

beforeEach(async () => {
  sim = await startSim({ start: new Date('2026-05-01T08:00:00Z') });
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-1' });
  ecs = ecsClient(sim);
  events = [];
  sim.bus.subscribe(
    'recorder',
    (e) => e.source === 'aws.ecs',
    async (e) => events.push(e),
  );
});
afterEach(async () => {
  ecs?.destroy();
  await sim?.close();
});

const run = async (taskDefinition: string, extra: Partial<RunTaskCommandInput> = {}) => {
  const out = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition, ...extra }));
  return out.tasks![0]!.taskArn!;
};

const summary = (e: AwsEvent) => [e.detail.version, e.detail.lastStatus, e.detail.desiredStatus];

describe('task lifecycle events', () => {
  it('walk PENDING → RUNNING → STOPPING → STOPPED for a task whose essential container exits, with growing versions', async () => {
    sim.ecs.defineTaskDefinition('report', { runSeconds: 60, exitCode: 1, containers: [{ name: 'app' }, { name: 'log', essential: false }] });
    const arn = await run('report', { startedBy: 'nightly', group: 'family:report' });

    await sim.clock.advance(120_000);
    expect(events.map(summary)).toEqual([
      [1, 'PENDING', 'RUNNING'],
      [2, 'RUNNING', 'RUNNING'],
      [3, 'STOPPING', 'STOPPED'],
      [4, 'STOPPED', 'STOPPED'],
    ]);
    const stopped = events.at(-1)!;
    expect(stopped.detail).toMatchObject({
      taskArn: arn,
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      startedBy: 'nightly',
      group: 'family:report',
      containers: [
        { name: 'app', lastStatus: 'STOPPED', exitCode: 1 },
        { name: 'log', lastStatus: 'STOPPED', exitCode: 0 },
      ],
    });
    expect(Date.parse(stopped.detail.startedAt)).toBe(Date.parse('2026-05-01T08:00:00Z') + ECS_TIMING.pullMs);
    expect(Date.parse(stopped.detail.stoppingAt) - Date.parse(stopped.detail.startedAt)).toBe(60_000);
    expect(sim.ecs.task(arn)!.lastStatus).toBe('STOPPED');
    // Resources come back to the instance once the task is STOPPED.
    expect(sim.ecs.containerInstance('i-1')!.remaining).toEqual(sim.ecs.containerInstance('i-1')!.registered);
  });

  it('have the envelope and detail fields of a real ECS Task State Change event', async () => {
    sim.ecs.defineTaskDefinition('report', { runSeconds: 1 });
    await run('report');
    await sim.clock.advance(60_000);
    const real = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    const ours = events.at(-1)!;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(real).sort());
    expect(ours).toMatchObject({ version: '0', 'detail-type': 'ECS Task State Change', source: 'aws.ecs', account: '123456789012', region: 'eu-west-1' });
    expect(ours.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ours.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ours.resources).toEqual([ours.detail.taskArn]);
    // Every field we emit is one real events carry (the real one has a few more, e.g. pull and agent details).
    const realKeys = new Set([...Object.keys(real.detail), 'capacityProviderName', 'platformVersion']);
    expect(Object.keys(ours.detail).filter((k) => !realKeys.has(k))).toEqual([]);
    const realContainerKeys = new Set([...Object.keys(real.detail.containers[0]), 'reason']);
    expect(Object.keys(ours.detail.containers[0]).filter((k) => !realContainerKeys.has(k))).toEqual([]);
  });

  it('StopTask: desiredStatus first, then STOPPING, DEPROVISIONING (awsvpc) and STOPPED with UserInitiated', async () => {
    sim.ecs.defineTaskDefinition('svc', { networkMode: 'awsvpc' });
    const arn = await run('svc', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } });
    await sim.clock.advance(10_000);
    expect(events.map(summary)).toEqual([
      [1, 'PROVISIONING', 'RUNNING'],
      [2, 'PENDING', 'RUNNING'],
      [3, 'RUNNING', 'RUNNING'],
    ]);
    await ecs.send(new StopTaskCommand({ cluster: 'prod', task: arn, reason: 'Scale-in by operator' }));
    await sim.clock.advance(30_000);
    expect(events.slice(3).map(summary)).toEqual([
      [4, 'RUNNING', 'STOPPED'],
      [5, 'STOPPING', 'STOPPED'],
      [6, 'DEPROVISIONING', 'STOPPED'],
      [7, 'STOPPED', 'STOPPED'],
    ]);
    expect(events.at(-1)!.detail).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'Scale-in by operator', containers: [{ exitCode: 143 }] });
    expect(events.at(-1)!.detail.attachments[0]).toMatchObject({ type: 'eni', status: 'DELETED' });
  });

  it('ACTIVATING and DEACTIVATING appear only for load-balanced tasks', async () => {
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true, runSeconds: 30 });
    await run('web');
    await sim.clock.advance(120_000);
    expect(events.map((e) => e.detail.lastStatus)).toEqual(['PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'STOPPED']);
  });

  it('stopTaskNow stops the task before returning, interrupting a stop already under way', async () => {
    sim.ecs.defineTaskDefinition('svc');
    const arn = await run('svc');
    await sim.clock.advance(5_000);
    sim.ecs.exitTask(arn, { exitCode: 2 });
    expect(sim.ecs.task(arn)!.lastStatus).toBe('STOPPING');
    const task = sim.ecs.stopTaskNow(arn);
    expect(task).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    await sim.clock.advance(60_000);
    await sim.bus.drain();
    // No state is emitted twice: the interrupted walk's timers did nothing.
    expect(events.map((e) => e.detail.lastStatus)).toEqual(['PENDING', 'RUNNING', 'STOPPING', 'STOPPED']);
    const instance = sim.ecs.containerInstance('i-1')!;
    expect(instance.remaining).toEqual(instance.registered);
  });

  it('stopTaskNow during DEPROVISIONING finishes the stop and frees the instance', async () => {
    sim.ecs.defineTaskDefinition('svc', { networkMode: 'awsvpc' });
    const arn = await run('svc', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } });
    await sim.clock.advance(10_000);
    await ecs.send(new StopTaskCommand({ cluster: 'prod', task: arn }));
    await sim.clock.advance(ECS_TIMING.stopNoticeMs + ECS_TIMING.stoppingMs);
    expect(sim.ecs.task(arn)!.lastStatus).toBe('DEPROVISIONING');
    sim.ecs.stopTaskNow(arn);
    expect(sim.ecs.task(arn)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated' });
    expect(sim.ecs.task(arn)!.stoppedAt).toBe(sim.clock.now());
    const instance = sim.ecs.containerInstance('i-1')!;
    expect(instance.remaining).toEqual(instance.registered);
  });

  it('StopTask before the task started: no exit codes, no startedAt', async () => {
    sim.ecs.defineTaskDefinition('svc');
    const arn = await run('svc');
    sim.ecs.stopTaskNow(arn, { stopCode: 'UserInitiated', reason: 'cancelled' });
    await sim.bus.drain();
    const last = events.at(-1)!.detail;
    expect(last).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'cancelled' });
    expect(last.startedAt).toBeUndefined();
    expect(last.containers[0].exitCode).toBeUndefined();
  });
});
