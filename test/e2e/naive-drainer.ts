/**
 * The baseline: the drainer of the public samples (e.g. aws-samples'
 * "ecs-cid-sample" and its many copies), for comparison with ecs-caretaker
 * under the same scenarios. On the lifecycle action it sets the container
 * instance DRAINING, then polls DescribeContainerInstances and completes the
 * action once `runningTasksCount` is 0. It sends no heartbeat and has a fixed
 * budget of checks within one invocation; when the budget runs out it gives
 * up and leaves the action to the hook's timeout (its DefaultResult).
 *
 * What it gets wrong, by design of the samples: runningTasksCount counts only
 * RUNNING tasks, so a task that is DEACTIVATING (a load balancer's
 * deregistration delay), STOPPING or still PENDING does not hold it back;
 * DAEMON tasks never leave, so it never reaches 0 with one; and a drain longer
 * than its budget, or than HeartbeatTimeout, lets the hook expire.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import type { Deployment, Handler } from '../../sim/lambda.ts';

export interface NaiveOptions {
  /** DescribeContainerInstances calls before giving up. */
  checks: number;
  /** Sleep between two checks. */
  intervalMs: number;
  timeoutMs: number;
}

export const NAIVE_DEFAULTS: NaiveOptions = { checks: 10, intervalMs: 15_000, timeoutMs: 300_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A cold start: new SDK clients with the SDK's default retries, the clusters from the environment. */
function createNaiveDrainer(env: NodeJS.ProcessEnv, opts: NaiveOptions): Handler {
  const clusters: string[] = JSON.parse(env.NAIVE_CLUSTERS ?? '[]');
  const ecs = new ECSClient({});
  const asg = new AutoScalingClient({});
  return async (event) => {
    const e = event as { 'detail-type'?: string; detail?: Record<string, string> };
    if (e['detail-type'] !== 'EC2 Instance-terminate Lifecycle Action' || !e.detail) throw new Error('not a lifecycle action');
    const { EC2InstanceId, AutoScalingGroupName, LifecycleHookName, LifecycleActionToken } = e.detail;
    const complete = () =>
      asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName,
          LifecycleHookName,
          LifecycleActionToken,
          InstanceId: EC2InstanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
    let found: { cluster: string; arn: string } | undefined;
    for (const cluster of clusters) {
      const out = await ecs.send(new ListContainerInstancesCommand({ cluster, filter: `ec2InstanceId == ${EC2InstanceId}` }));
      const arn = out.containerInstanceArns?.[0];
      if (arn) {
        found = { cluster, arn };
        break;
      }
    }
    if (!found) {
      await complete();
      return { outcome: 'not-registered' };
    }
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: found.cluster, containerInstances: [found.arn], status: 'DRAINING' }));
    for (let check = 0; check < opts.checks; check++) {
      const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster: found.cluster, containerInstances: [found.arn] }));
      if (out.containerInstances?.[0]?.runningTasksCount === 0) {
        await complete();
        return { outcome: 'completed', checks: check + 1 };
      }
      await sleep(opts.intervalMs);
    }
    return { outcome: 'gave-up' };
  };
}

export function naiveDeployment(clusters: string[], opts: NaiveOptions = NAIVE_DEFAULTS): Deployment {
  return {
    name: 'naive',
    timeoutMs: opts.timeoutMs,
    env: { NAIVE_CLUSTERS: JSON.stringify(clusters) },
    load: async () => createNaiveDrainer(process.env, opts),
  };
}
