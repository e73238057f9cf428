/**
 * ECS reads are eventually consistent: a task created a moment before the
 * drain can be counted on its instance before ListTasks or DescribeTasks show
 * it. The drain must not complete on a listing that misses it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { unlistedCount } from '../../functions/drain/done.ts';
import { runUntil, standardWorld, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('drain: tasks not visible yet', () => {
  it('counts the tasks the container instance counts beyond the listing', () => {
    const running = { taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/a', lastStatus: 'RUNNING', desiredStatus: 'RUNNING' };
    const stopped = { taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/b', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' };
    expect(unlistedCount({ runningTasksCount: 1, pendingTasksCount: 1 }, [running, stopped])).toBe(1);
    expect(unlistedCount({ runningTasksCount: 1, pendingTasksCount: 0 }, [running, stopped])).toBe(0);
    // A task being stopped is listed but no longer counted: never a negative count.
    expect(unlistedCount({ runningTasksCount: 0 }, [{ ...running, lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' }])).toBe(0);
    expect(unlistedCount({}, [])).toBe(0);
  });

  it('waits for a job started just before the termination, that ECS lists only 30 s later', async () => {
    h = await startHarness();
    const { drained } = standardWorld(h);
    const { sim, world } = h;
    world.services.addService('prod', { name: 'api', taskDefinition: 'api', on: [{ instance: drained.arn, count: 1 }] });
    await sim.clock.advance(10_000);
    sim.ecs.visibilityDelayMs = 30_000;
    sim.ecs.defineTaskDefinition('job', { runSeconds: 90 });
    const job = world.services.runStandalone(drained.arn, 'job');
    const [action] = world.autoscaling.terminate('prod-asg', 'i-0d7a1e');

    await runUntil(h, () => action!.status !== 'pending', { maxMs: 10 * 60_000 });
    expect(action).toMatchObject({ status: 'completed', result: 'CONTINUE', completedBy: 'api' });
    // The job ran its 90 s to the end (a termination would have stopped it sooner), and only then did the drain complete.
    expect(job.lastStatus).toBe('STOPPED');
    expect(job.stoppedAt! - job.createdAt).toBeGreaterThanOrEqual(90_000);
    expect(action!.completedAt!).toBeGreaterThanOrEqual(job.stoppedAt!);
    // The service task was gone long before the job became visible: the listing alone would have said done.
    const api = sim.ecs.tasks({ containerInstance: drained.arn }).find((t) => t.group === 'service:api');
    expect(api!.stoppedAt!).toBeLessThan(job.createdAt + 30_000);
  });
});
