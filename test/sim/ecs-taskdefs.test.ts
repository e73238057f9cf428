/**
 * RegisterTaskDefinition and DescribeTaskDefinition in the simulator, through
 * the real ECS client, and their link to the services of ecs-draining.ts.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { installEcsTaskDefinitions, type EcsTaskDefinitionsSim } from '../../sim/ecs-taskdefs.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { checkoutRegister, ordersWorker } from '../audit/support.ts';
import { ecsClient } from './clients.ts';

let sim: Sim;
let world: DrainWorld;
let taskDefs: EcsTaskDefinitionsSim;
let ecs: ECSClient;

beforeEach(async () => {
  sim = await startSim({ start: new Date('2026-11-23T02:00:00Z'), seed: 5 });
  world = installDrainWorld(sim);
  taskDefs = installEcsTaskDefinitions(sim);
  ecs = ecsClient(sim, { maxAttempts: 1 });
});
afterEach(async () => {
  ecs.destroy();
  await sim.close();
});

describe('RegisterTaskDefinition', () => {
  it('returns the definition as ECS describes it: revision, ARN, defaults filled in', async () => {
    const out = await ecs.send(new RegisterTaskDefinitionCommand(checkoutRegister() as never));
    const td = out.taskDefinition!;
    expect(td).toMatchObject({
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-web:1',
      family: 'checkout-web',
      revision: 1,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: ['FARGATE'],
      volumes: [],
      placementConstraints: [],
    });
    expect(td.registeredAt).toEqual(new Date('2026-11-23T02:00:00Z'));
    const app = td.containerDefinitions!.find((c) => c.name === 'app')!;
    expect(app).toMatchObject({ cpu: 0, essential: true, mountPoints: [], volumesFrom: [], systemControls: [] });
    // awsvpc: the host port is the container port.
    expect(app.portMappings).toEqual([{ name: 'http', containerPort: 8080, hostPort: 8080, protocol: 'tcp', appProtocol: 'http' }]);
    expect(app.healthCheck!.command).toEqual(['CMD-SHELL', 'curl -fsS http://127.0.0.1:8080/healthz || exit 1']);
    // The next registration of the family is the next revision, known to the rest of the simulator.
    const again = await ecs.send(new RegisterTaskDefinitionCommand(checkoutRegister() as never));
    expect(again.taskDefinition!.revision).toBe(2);
    expect(sim.ecs.taskDefinition('checkout-web')).toMatchObject({ revision: 2, cpu: 512, memory: 1024, networkMode: 'awsvpc' });
  });

  it('stores cpu in vCPU and memory in GB as units and MiB', () => {
    const td = taskDefs.register({ ...checkoutRegister(), cpu: '1 vCPU', memory: '2 GB' });
    expect(td).toMatchObject({ cpu: '1024', memory: '2048' });
  });

  it.each([
    [{ containerDefinitions: [] }, 'Container list cannot be empty.'],
    [{ family: 'bad family' }, 'Family contains invalid characters'],
    [{ networkMode: 'bridge' }, "Fargate only supports network mode 'awsvpc'."],
  ])('refuses %j with ClientException', async (change, message) => {
    await expect(ecs.send(new RegisterTaskDefinitionCommand({ ...checkoutRegister(), ...change } as never))).rejects.toMatchObject({
      name: 'ClientException',
      message: expect.stringContaining(message),
    });
  });
});

describe('DescribeTaskDefinition', () => {
  it('describes by ARN, family:revision and family (the latest revision)', async () => {
    const first = taskDefs.register(ordersWorker() as Record<string, any>);
    const second = taskDefs.register({
      ...(ordersWorker() as Record<string, any>),
      containerDefinitions: [{ ...ordersWorker().containerDefinitions![0], stopTimeout: 5 }],
    });
    const byArn = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: first.taskDefinitionArn }));
    expect(byArn.taskDefinition!.containerDefinitions![0]!.stopTimeout).toBe(20);
    const byRevision = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'orders-worker:2' }));
    expect(byRevision.taskDefinition!.taskDefinitionArn).toBe(second.taskDefinitionArn);
    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'orders-worker', include: ['TAGS'] }));
    expect(latest.taskDefinition!.revision).toBe(2);
    expect(latest.tags).toEqual([]);
    expect(latest.taskDefinition!.compatibilities).toEqual(['EXTERNAL', 'EC2']);
  });

  it('describes a definition made with sim.ecs.defineTaskDefinition from what the simulator knows', async () => {
    sim.ecs.defineTaskDefinition('report', { cpu: 512, memory: 1024, containers: [{ name: 'report', image: 'report:3' }] });
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'report:1' }));
    expect(out.taskDefinition).toMatchObject<TaskDefinition>({
      family: 'report',
      revision: 1,
      cpu: '512',
      memory: '1024',
      networkMode: 'bridge',
      containerDefinitions: [
        { name: 'report', image: 'report:3', essential: true, cpu: 0, portMappings: [], environment: [], mountPoints: [], volumesFrom: [], systemControls: [] },
      ],
    });
  });

  it.each(['nothing', 'orders-worker:9', 'orders-worker:x'])('answers ClientException for %s', async (ref) => {
    taskDefs.register(ordersWorker() as Record<string, any>);
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }))).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Unable to describe task definition.',
    });
  });
});

it('services run a registered definition and DescribeServices shows their load balancer settings', async () => {
  sim.ecs.addCluster('prod');
  sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0aaa', cpu: 4096, memory: 8192 });
  const td = taskDefs.register(checkoutRegister() as Record<string, any>);
  const targetGroupArn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/6d0ecf831eec9f09';
  world.services.addService('prod', {
    name: 'web',
    taskDefinition: td.taskDefinitionArn,
    desiredCount: 2,
    settings: {
      loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
      healthCheckGracePeriodSeconds: 30,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  });
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));
  expect(out.services![0]).toMatchObject({
    taskDefinition: td.taskDefinitionArn,
    runningCount: 0,
    pendingCount: 2,
    loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
    healthCheckGracePeriodSeconds: 30,
    deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
  });
});
