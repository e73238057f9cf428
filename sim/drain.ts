import { AutoScalingSim } from './autoscaling.ts';
import { EcsDrainingSim } from './ecs-draining.ts';
import type { Sim } from './index.ts';
import { mulberry32 } from './random.ts';

export { AutoScalingSim, type LifecycleAction } from './autoscaling.ts';
export { EcsDrainingSim, type SimService } from './ecs-draining.ts';

export interface DrainWorld {
  /** EC2 Auto Scaling: groups, termination hooks, lifecycle actions (service 'autoscaling'). */
  autoscaling: AutoScalingSim;
  /** ECS services, container instance draining, capacity providers (operations added to service 'ecs'). */
  services: EcsDrainingSim;
}

/**
 * Adds what the drain function talks to: Auto Scaling over awsQuery, and the
 * ECS operations for container instances, services and capacity providers.
 * An instance that leaves its group (the lifecycle actions are over) takes its
 * tasks and its container instance registration with it.
 */
export function installDrainWorld(sim: Sim, opts: { seed?: number } = {}): DrainWorld {
  const ids = mulberry32(opts.seed ?? 0x5eed);
  const deps = { clock: sim.clock, bus: sim.bus, ids, region: sim.region, account: sim.account };
  const autoscaling = new AutoScalingSim(deps);
  sim.register(autoscaling.service());
  const services = new EcsDrainingSim({ ...deps, ecs: sim.ecs });
  const ecs = sim.service('ecs');
  if (!ecs) throw new Error('sim: the ecs service must be registered before installDrainWorld');
  for (const [op, handler] of Object.entries(services.operations())) {
    if (ecs.operations[op]) throw new Error(`sim: ecs.${op} is already implemented elsewhere`);
    ecs.operations[op] = handler;
  }
  autoscaling.onInstanceLeft((_asg, instanceId, fate) => services.instanceLeft(instanceId, fate));
  return { autoscaling, services };
}
