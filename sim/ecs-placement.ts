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
    const instance = fitting.reduce((best, i) => (taskCount(i) < taskCount(best) || (taskCount(i) === taskCount(best) && i.seq < best.seq) ? i : best));
    return { instance };
  }
  return {
    failures: active.map((i) => ({ arn: i.arn, reason: i.remaining.cpu < need.cpu ? 'RESOURCE:CPU' : 'RESOURCE:MEMORY' })),
  };
}
