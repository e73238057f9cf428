/**
 * A cluster in the simulator for live audits: four services, two of them
 * clean (checkout-web, orders-worker) and two with traps (payments-api,
 * legacy-api), their task definitions registered as RegisterTaskDefinition
 * takes them and their ALB target groups. The CLI and the Lambda read it
 * through real SDK clients.
 */
import { readFileSync } from 'node:fs';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { installDrainWorld, type DrainWorld } from '../../sim/drain.ts';
import { installEcsTaskDefinitions, type EcsTaskDefinitionsSim } from '../../sim/ecs-taskdefs.ts';
import { installElbv2, type Elbv2Sim } from '../../sim/elbv2.ts';
import type { Sim } from '../../sim/index.ts';
import { checkoutRegister, fixturePath, ordersWorker } from './support.ts';

export interface AuditWorld {
  taskDefs: EcsTaskDefinitionsSim;
  elbv2: Elbv2Sim;
  services: DrainWorld['services'];
  arn: {
    legacyTargetGroup: string;
    checkoutTargetGroup: string;
    service: (name: string) => string;
  };
}

/** An EC2 bridge-mode API whose app reaches its statsd sidecar on 127.0.0.1: in bridge mode that is the app itself. */
export const legacyApiRegister = (): TaskDefinition => ({
  family: 'legacy-api',
  networkMode: 'bridge',
  requiresCompatibilities: ['EC2'],
  containerDefinitions: [
    {
      name: 'app',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/legacy-api:7.1.0',
      memory: 1024,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
      environment: [{ name: 'STATSD_ADDR', value: '127.0.0.1:8125' }],
    },
    { name: 'statsd', image: 'statsd/statsd:v0.10.2', memory: 128, essential: false, portMappings: [{ containerPort: 8125, protocol: 'udp' }] },
  ],
});

/** payments-api with a size Fargate accepts (RegisterTaskDefinition would refuse 1 vCPU with 512 MiB), traps otherwise intact. */
export const paymentsApiRegister = (): TaskDefinition => ({
  ...(JSON.parse(readFileSync(fixturePath('payments-api.register.json'), 'utf8')) as TaskDefinition),
  memory: '2048',
});

/** The circuit breaker setting the ECS guide recommends. */
const safeDeployment = { enable: true, rollback: true };

/**
 * Findings of the whole cluster as `severity rule resource`, in the CLI's
 * order: most severe first, then by resource, then in RULES order. Revisions
 * are 1: each family is registered once.
 */
export const expectedFindings = (world: AuditWorld): string[] => [
  `high deployment-no-headroom ${world.arn.service('legacy-api')}`,
  'high bridge-localhost-sidecar taskDefinition:legacy-api:1#container:app',
  'high health-check-needs-shell taskDefinition:payments-api:1#container:api',
  `medium circuit-breaker-disabled ${world.arn.service('legacy-api')}`,
  'medium fargate-stop-timeout-over-max taskDefinition:payments-api:1#container:api',
  `low circuit-breaker-no-rollback ${world.arn.service('payments-api')}`,
  `low alb-slow-health-check ${world.arn.legacyTargetGroup}`,
  `low alb-long-deregistration-delay ${world.arn.legacyTargetGroup}`,
];

export function buildAuditWorld(sim: Sim, cluster = 'prod'): AuditWorld {
  const { services } = installDrainWorld(sim);
  const taskDefs = installEcsTaskDefinitions(sim);
  const elbv2 = installElbv2(sim);
  sim.ecs.addCluster(cluster);
  for (let i = 1; i <= 4; i++) sim.ecs.addContainerInstance(cluster, { ec2InstanceId: `i-${cluster}-${i}`, cpu: 8192, memory: 16384 });

  // Tuned as the ECS guide suggests for an app that starts in seconds: 5 s × 2 to join, 5 s deregistration.
  const checkoutTg = elbv2.createTargetGroup(
    {
      Name: 'checkout-web',
      Protocol: 'HTTP',
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 4,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    },
    { 'deregistration_delay.timeout_seconds': '5' },
  );
  // Created with every default: 30 s × 5 to join, 300 s deregistration.
  const legacyTg = elbv2.createTargetGroup({ Name: 'legacy-api', Protocol: 'HTTP', Port: 8080 });

  const checkout = taskDefs.register(checkoutRegister() as Record<string, any>);
  const orders = taskDefs.register(ordersWorker() as Record<string, any>);
  const payments = taskDefs.register(paymentsApiRegister() as Record<string, any>);
  const legacy = taskDefs.register(legacyApiRegister() as Record<string, any>);

  services.addService(cluster, {
    name: 'checkout-web',
    taskDefinition: checkout.taskDefinitionArn,
    desiredCount: 2,
    settings: {
      loadBalancers: [{ targetGroupArn: checkoutTg.TargetGroupArn, containerName: 'app', containerPort: 8080 }],
      healthCheckGracePeriodSeconds: 30,
      deploymentCircuitBreaker: safeDeployment,
    },
  });
  services.addService(cluster, {
    name: 'orders-worker',
    taskDefinition: orders.taskDefinitionArn,
    desiredCount: 2,
    settings: { deploymentCircuitBreaker: safeDeployment },
  });
  services.addService(cluster, {
    name: 'payments-api',
    taskDefinition: payments.taskDefinitionArn,
    desiredCount: 2,
    settings: { deploymentCircuitBreaker: { enable: true, rollback: false } },
  });
  services.addService(cluster, {
    name: 'legacy-api',
    taskDefinition: legacy.taskDefinitionArn,
    desiredCount: 2,
    minimumHealthyPercent: 100,
    maximumPercent: 100,
    settings: { loadBalancers: [{ targetGroupArn: legacyTg.TargetGroupArn, containerName: 'app', containerPort: 8080 }] },
  });

  return {
    taskDefs,
    elbv2,
    services,
    arn: {
      legacyTargetGroup: legacyTg.TargetGroupArn,
      checkoutTargetGroup: checkoutTg.TargetGroupArn,
      service: (name) => sim.ecs.arn(`service/${cluster}/${name}`),
    },
  };
}
