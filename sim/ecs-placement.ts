import type { ContainerInstance, Failure, Resources } from './ecs-types.ts';

/**
 * RunTask placement on EC2: only ACTIVE instances take new tasks (a DRAINING
 * one never does, "Container instance draining", ECS Developer Guide). Among
 * those that fit, the one with the fewest tasks wins, so tasks spread across
 * instances the way drain tests expect; ties go to the oldest instance.
 * When none fits, each candidate is reported the way RunTask's failures[] does:
 * its ARN and RESOURCE:CPU or RESOURCE:MEMORY ("API failure reasons", ECS Developer Guide).
 */
export function place(
  instances: ContainerInstance[],
  need: Resources,
  taskCount: (instance: ContainerInstance) => number,
): { instance: ContainerInstance } | { failures: Failure[] } {
  const active = instances.filter((i) => i.status === 'ACTIVE');
  const fitting = active.filter((i) => i.remaining.cpu >= need.cpu && i.remaining.memory >= need.memory);
  if (fitting.length > 0) {
    // Each count once: counting costs a look at the instance's tasks, and hundreds of instances compete.
    const counted = fitting.map((instance) => ({ instance, count: taskCount(instance) }));
    const best = counted.reduce((best, c) => (c.count < best.count || (c.count === best.count && c.instance.seq < best.instance.seq) ? c : best));
    return { instance: best.instance };
  }
  return {
    failures: active.map((i) => ({ arn: i.arn, reason: i.remaining.cpu < need.cpu ? 'RESOURCE:CPU' : 'RESOURCE:MEMORY' })),
  };
}
