/**
 * drain: the Auto Scaling group scales in one instance that runs four tasks
 * of three services. The load-balanced tasks spend the target group's default
 * deregistration delay (300 s) in DEACTIVATING, so the drain outlives a third
 * of the hook's HeartbeatTimeout and needs heartbeats; the hook is completed
 * with CONTINUE once the last task is STOPPED, and not a moment before.
 */
import { ECS_TIMING } from '../../sim/index.ts';
import { ASG, CLUSTER, demoConfig } from '../deployment.ts';
import type { Scenario } from '../runner.ts';
import { INSTANCES } from '../world.ts';

const DEREGISTRATION_DELAY_MS = 300_000;
const at = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export const drainScenario: Scenario = {
  name: 'drain',
  title: 'a scale-in drains an instance: DRAINING, tasks through DEACTIVATING, heartbeats, CONTINUE only after the last STOPPED',
  start: '2026-11-24T09:00:00Z',
  async run({ world, sim, timeline, fn, check }) {
    const [doomed, spareA, spareB] = INSTANCES;
    const services = world.drain.services;
    const doomedArn = sim.ecs.containerInstance(doomed)!.arn;
    sim.ecs.defineTaskDefinition('web', { loadBalanced: true });
    sim.ecs.defineTaskDefinition('api');
    sim.ecs.defineTaskDefinition('worker');
    services.addService(CLUSTER, {
      name: 'web',
      taskDefinition: 'web',
      on: [
        { instance: doomed, count: 2 },
        { instance: spareA, count: 1 },
      ],
    });
    services.addService(CLUSTER, {
      name: 'api',
      taskDefinition: 'api',
      on: [
        { instance: doomed, count: 1 },
        { instance: spareB, count: 1 },
      ],
    });
    services.addService(CLUSTER, { name: 'worker', taskDefinition: 'worker', on: [{ instance: doomed, count: 1 }] });
    await sim.clock.advance(10_000);
    await fn('drain');

    const seen = new Map<string, Set<string>>();
    sim.ecs.taskListeners.push((task) => {
      if (task.containerInstanceArn === doomedArn) seen.set(task.id, (seen.get(task.id) ?? new Set()).add(task.lastStatus));
    });
    const scaleInAt = sim.clock.now();
    world.narrateTasks((task) => task.containerInstanceArn === doomedArn || (task.createdAt >= scaleInAt && task.lastStatus === 'RUNNING' && '(replacement)'));
    world.drain.autoscaling.onInstanceLeft((_asg, instanceId, fate) => timeline.world('autoscaling', `${instanceId} ${fate}: its lifecycle actions are over`));

    timeline.heading(`Scenario drain — ${doomed} runs web ×2 (behind a load balancer), api and worker; ${ASG} scales in`);
    const hook = demoConfig.drain;
    const saved = ECS_TIMING.deactivateMs;
    ECS_TIMING.deactivateMs = DEREGISTRATION_DELAY_MS;
    try {
      timeline.world(
        'autoscaling',
        `scale-in: ${doomed} → Terminating:Wait, lifecycle action of hook ${hook.hookName} (HeartbeatTimeout ${hook.heartbeatTimeoutSeconds} s)`,
      );
      const [action] = world.drain.autoscaling.terminate(ASG, doomed);
      if (!action) throw new Error(`no lifecycle hook on ${ASG}: the drain function's hook was not created`);
      for (let t = 0; t < 20 * 60_000 && action.status === 'pending'; t += 5_000) await sim.clock.advance(5_000);
      await sim.clock.advance(5_000);

      const tasks = sim.ecs.tasks({ containerInstance: doomedArn });
      const lastStopped = Math.max(...tasks.map((t) => t.stoppedAt ?? Number.POSITIVE_INFINITY));
      const completedAt = action.completedAt ?? Number.NaN;
      check(
        'lifecycle action completed with CONTINUE by the drain function',
        action.status === 'completed' && action.result === 'CONTINUE' && action.completedBy === 'api',
        action.completedBy === 'api'
          ? `${action.result} by CompleteLifecycleAction at ${at(completedAt)}`
          : `${action.status}, ${action.completedBy ?? 'not completed'}`,
      );
      check(
        'CompleteLifecycleAction only after the last task STOPPED',
        completedAt >= lastStopped,
        Number.isFinite(lastStopped)
          ? `last STOPPED ${at(lastStopped)}, completed ${((completedAt - lastStopped) / 1000).toFixed(1)} s later`
          : 'a task never stopped',
      );
      const accepted = world.drain.autoscaling.completeCalls.filter((c) => c.accepted).length;
      check('exactly one CompleteLifecycleAction', accepted === 1, `${accepted}`);
      const deactivated = [...seen.values()].filter((states) => states.has('DEACTIVATING')).length;
      check('the load-balanced tasks went through DEACTIVATING', deactivated === 2, `${deactivated} of 2 web tasks`);
      check(
        'heartbeats kept the hook alive through the deregistration delay',
        action.heartbeats >= 1,
        `${action.heartbeats} heartbeats over ${((completedAt - action.startedAt) / 60_000).toFixed(1)} min`,
      );
      const running = (service: string) =>
        sim.ecs.tasks((t) => t.group === `service:${service}` && t.lastStatus === 'RUNNING' && t.containerInstanceArn !== doomedArn).length;
      const moved = `web ${running('web')}/3, api ${running('api')}/2, worker ${running('worker')}/1`;
      check('every service runs at full count on the other instances', running('web') === 3 && running('api') === 2 && running('worker') === 1, moved);
    } finally {
      ECS_TIMING.deactivateMs = saved;
    }
  },
};
