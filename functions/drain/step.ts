import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ContainerInstance } from '@aws-sdk/client-ecs';
import { Api, type Located } from './aws.ts';
import { finish } from './complete.ts';
import { contextOf, KEEP_CLOSED_SECONDS, pendingCount, type Ctx, type StepResult } from './context.ts';
import {
  doneTest,
  knownDaemons,
  learn,
  mayBeDone,
  taskIdOf,
  tasksToDescribe,
  timedOut,
  unclassifiedServices,
  viewsOf,
  type DoneVerdict,
  type KnownTasks,
  type Listing,
  type TaskView,
  unlistedCount,
} from './done.ts';
import type { DrainRecord } from './records.ts';

/**
 * Moves one action forward as far as the API allows, and is safe to run again
 * at any point: find the container instance, stand down or continue when
 * there is nothing to do, set it DRAINING, check, stop standalone tasks past
 * their time, complete when done or when the drain timed out.
 */
export async function advance(ctx: Ctx, record: DrainRecord, trigger: string): Promise<StepResult> {
  const api = new Api(ctx.deps, ctx.cache);
  try {
    return await step(ctx, api, record, trigger);
  } finally {
    await ctx.deps.records
      .increment(record.id, { apiCalls: api.calls })
      .catch((error) => ctx.deps.logger.warn('Could not count API calls', { actionId: record.id, error }));
  }
}

async function step(ctx: Ctx, api: Api, initial: DrainRecord, trigger: string): Promise<StepResult> {
  const { deps } = ctx;
  const { settings, records, logger, metrics } = deps;
  let record = initial;
  let described: ContainerInstance | undefined;
  const log = () => ({ ...contextOf(record), trigger });

  try {
    if (!record.containerInstanceArn || !record.cluster) {
      const provider = await api.capacityProviderOf(record.asg);
      if (provider?.autoScalingGroupProvider?.managedDraining === 'ENABLED') {
        // ECS's own termination hook drains this group (managed instance draining); two drainers
        // would fight over the same instance, so ours lets the instance go at once.
        logger.info('Capacity provider has managed draining enabled: standing down, ECS drains this instance', { ...log(), capacityProvider: provider.name });
        return await finish(ctx, api, record, 'CONTINUE', 'stood-down');
      }
      const found = await locate(ctx, api, record.instanceId, log());
      if (!found) {
        if (record.origin === 'WarmPool') {
          logger.info('Instance leaves the warm pool without a registered container instance: continuing at once', { ...log(), clusters: settings.clusters });
          return await finish(ctx, api, record, 'CONTINUE', 'warm-pool');
        }
        logger.info('Instance is not registered in any configured cluster: continuing at once', { ...log(), clusters: settings.clusters });
        return await finish(ctx, api, record, 'CONTINUE', 'not-registered');
      }
      if (record.origin === 'WarmPool') {
        // The agent registers a warm-pool instance while it is being warmed unless ECS_WARM_POOLS_CHECK=true
        // (ECS developer guide, "Configuring pre-initialized instances for your Amazon ECS Auto Scaling group"),
        // and tasks may have been placed on it then: ECS, not the event's Origin, says whether any run.
        logger.warn('Instance leaving the warm pool has a registered container instance (is ECS_WARM_POOLS_CHECK=true set?): draining it', {
          ...log(),
          status: found.instance.status,
          agentConnected: found.instance.agentConnected,
          runningTasksCount: found.instance.runningTasksCount,
        });
        metrics.addMetric('WarmPoolInstanceRegistered', MetricUnit.Count, 1);
      }
      const located = await records.update(record.id, { cluster: found.cluster, containerInstanceArn: found.arn });
      if (!located.ok) return { outcome: 'closed', actionId: record.id };
      record = located.item;
      await records.putIndex(found.arn, record.id, record.expiration ?? Math.floor(deps.now() / 1000) + KEEP_CLOSED_SECONDS);
      described = found.instance;
    }
    const cluster = record.cluster!;
    const containerInstanceArn = record.containerInstanceArn!;

    const ci = described ?? (await api.describeContainerInstance(cluster, containerInstanceArn));
    if (ci?.ec2InstanceId !== undefined && ci.ec2InstanceId !== record.instanceId) {
      // Only an inconsistent answer gets here (the location was checked when it was stored): never drain
      // another instance; forget the location so that the next step finds the container instance again.
      logger.error('Container instance belongs to another EC2 instance: not draining it', { ...log(), describedEc2InstanceId: ci.ec2InstanceId });
      metrics.addMetric('ContainerInstanceMismatch', MetricUnit.Count, 1);
      await records.update(record.id, {}, { remove: ['cluster', 'containerInstanceArn'] });
      return { outcome: 'error', actionId: record.id };
    }
    if (!ci || ci.status === 'INACTIVE' || ci.status === 'DEREGISTERING') {
      // ECS no longer places, tracks or replaces tasks for a deregistered instance: nothing to wait for.
      logger.warn('Container instance is no longer registered: continuing', { ...log(), status: ci?.status ?? 'MISSING' });
      return await finish(ctx, api, record, 'CONTINUE', 'deregistered');
    }
    if (ci.status === 'ACTIVE') {
      const failure = await api.setDraining(cluster, containerInstanceArn);
      if (failure) throw new Error(`UpdateContainerInstancesState DRAINING failed: ${failure}`);
      if (record.drainingAt !== undefined) {
        logger.warn('Container instance was set ACTIVE again during its drain: DRAINING again', log());
        metrics.addMetric('DrainReasserted', MetricUnit.Count, 1);
      } else {
        logger.info('Container instance set DRAINING', log());
      }
      const updated = await records.update(record.id, { drainingAt: deps.now() });
      if (!updated.ok) return { outcome: 'closed', actionId: record.id };
      record = updated.item;
    }

    // A second pass only when a STOPPED event landed while this check was writing its result.
    for (let pass = 0; pass < 2; pass++) {
      const { verdict, knownTasks } = await check(ctx, api, record, ci);
      if (verdict.done) {
        logger.info('Container instance drained: every task is STOPPED', { ...log(), stopped: verdict.stopped, excluded: verdict.excluded.length });
        return await finish(ctx, api, record, 'CONTINUE', 'drained');
      }
      if (timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) break;
      const outstanding = new Set(verdict.blocking.map((t) => taskIdOf(t.taskArn)));
      // Desired RUNNING: what the container instance's runningTasksCount counts (ECS API reference, ContainerInstance).
      const excludedRunning = verdict.excluded.filter((t) => t.lastStatus === 'RUNNING' || t.desiredStatus === 'RUNNING').length;
      const updated = await records.update(record.id, {
        outstanding,
        knownTasks,
        excludedRunning,
        preflightDone: true,
        checks: (record.checks ?? 0) + 1,
        checkedAt: deps.now(),
      });
      if (!updated.ok) return { outcome: 'closed', actionId: record.id };
      record = updated.item;
      logger.info('Drain in progress', {
        ...log(),
        blocking: verdict.blocking.length,
        stopped: verdict.stopped,
        services: verdict.services,
        sample: verdict.blocking.slice(0, 5).map((t) => `${taskIdOf(t.taskArn)}:${t.lastStatus}`),
      });
      if (!mayBeDone(record.outstanding, record.stoppedSeen)) return { outcome: 'waiting', actionId: record.id, blocking: verdict.blocking.length };
    }
  } catch (error) {
    if (!timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) {
      // Throttling has had the SDK's retries already; the tick picks the action up again.
      logger.error('Drain step failed; the next tick tries again', { ...log(), error: error as Error });
      metrics.addMetric('DrainStepFailed', MetricUnit.Count, 1);
      return { outcome: 'error', actionId: record.id };
    }
    logger.error('Drain step failed after the drain timeout: applying the timeout outcome', { ...log(), error: error as Error });
  }

  if (timedOut(record.startedAt, settings.drainTimeoutSeconds, deps.now())) {
    // CONTINUE lets the instance terminate (and the group's other hooks run). ABANDON terminates it
    // too and skips the other hooks, unless the group's instance lifecycle policy retains on abandon
    // (RetentionTriggers.TerminateHookAbandon = retain): then the instance is kept, Retained, with its
    // stuck tasks, for someone to inspect (EC2 Auto Scaling user guide, "Control instance retention
    // with instance lifecycle policies").
    logger.warn('Drain timed out', {
      ...log(),
      drainTimeoutSeconds: settings.drainTimeoutSeconds,
      result: settings.timeoutOutcome,
      outstanding: pendingCount(record),
    });
    return finish(ctx, api, record, settings.timeoutOutcome, 'timed-out');
  }
  return { outcome: 'waiting', actionId: record.id, blocking: pendingCount(record) };
}

/**
 * The container instance of an EC2 instance, if a configured cluster has it.
 * Container instances the ec2InstanceId filter listed for another EC2 instance
 * are logged at ERROR, naming both, and never returned.
 */
export async function locate(ctx: Ctx, api: Api, instanceId: string, context: Record<string, unknown>): Promise<Located['found']> {
  const { logger, metrics, settings } = ctx.deps;
  const { found, mismatched } = await api.findContainerInstance(settings.clusters, instanceId);
  for (const other of mismatched) {
    logger.error('ListContainerInstances returned a container instance of another EC2 instance for the ec2InstanceId filter: ignored', {
      ...context,
      instanceId,
      cluster: other.cluster,
      listedContainerInstanceArn: other.arn,
      listedEc2InstanceId: other.ec2InstanceId ?? 'MISSING',
    });
  }
  if (mismatched.length) metrics.addMetric('ContainerInstanceMismatch', MetricUnit.Count, mismatched.length);
  return found;
}

/** What one check found, and what the record should remember of it. */
interface Checked {
  verdict: DoneVerdict;
  knownTasks: KnownTasks;
  views: TaskView[];
}

/**
 * The done test against the API, plus what it asks for: the preflight warning
 * and stopping overdue standalone tasks.
 *
 * The first check of a drain lists the tasks desired RUNNING and STOPPED and
 * describes them all, once. A later check lists the tasks desired RUNNING and
 * describes only those whose state may have changed (tasksToDescribe): new
 * ones, and the ones that blocked the last check and are desired RUNNING no
 * more. Only when that says done does it list the tasks desired STOPPED too,
 * and describe what it did not know there (a task created late, that ECS did
 * not list before): a completion always rests on both listings. So a waiting
 * check costs the RUNNING pages, the tasks in transit and the container
 * instance; the completing one adds the STOPPED pages.
 */
async function check(ctx: Ctx, api: Api, record: DrainRecord, ci: ContainerInstance): Promise<Checked> {
  const { deps } = ctx;
  const { settings, logger, metrics } = deps;
  const cluster = record.cluster!;
  const containerInstance = record.containerInstanceArn!;
  const listing: Listing = { running: await api.listTasks(cluster, containerInstance, 'RUNNING'), stopped: [] };
  // The first check lists both, so that every task on the instance is described once, at the start.
  const first = record.knownTasks === undefined;
  if (first) listing.stopped = await api.listTasks(cluster, containerInstance, 'STOPPED');
  let pass = await evaluate(ctx, api, record, listing, record.knownTasks ?? {});
  if (pass.verdict.done && !first) {
    listing.stopped = await api.listTasks(cluster, containerInstance, 'STOPPED');
    pass = await evaluate(ctx, api, record, listing, pass.knownTasks);
  }
  const { verdict } = pass;
  const unlisted = verdict.done ? unlistedCount(ci, pass.views) : 0;
  if (unlisted > 0) {
    logger.warn('The container instance counts tasks that ListTasks does not show yet: not done until it does', {
      ...contextOf(record),
      unlisted,
      runningTasksCount: ci.runningTasksCount,
      pendingTasksCount: ci.pendingTasksCount,
    });
    verdict.done = false;
  }

  if (!record.preflightDone && verdict.services.length) await preflight(ctx, api, record, verdict.services);

  for (const task of verdict.toStop) {
    const reason = `ecs-caretaker drain: instance ${record.instanceId} is terminating; standalone task stopped after ${settings.standaloneTasks.stopAfterSeconds} s`;
    await api.stopTask(cluster, task.taskArn, reason);
    logger.warn('Standalone task stopped (drain.standaloneTasks.policy stop-after)', { actionId: record.id, taskArn: task.taskArn, group: task.group });
    metrics.addMetric('StandaloneTaskStopped', MetricUnit.Count, 1);
  }
  return pass;
}

/** One pass of the done test over a listing: describe what is not known, then judge. */
async function evaluate(ctx: Ctx, api: Api, record: DrainRecord, listing: Listing, known: KnownTasks): Promise<Checked> {
  return judge(ctx, api, record.cluster!, listing, known, { outstanding: record.outstanding, drainStartedAt: record.startedAt, context: contextOf(record) });
}

/**
 * Describes what the listing shows that `known` does not, then runs the done
 * test: the one way both the drain record's checks and the drain without the
 * table (reconcile.ts, which knows nothing and so always looks as at a first
 * check) turn ListTasks pages into a verdict.
 */
export async function judge(
  ctx: Ctx,
  api: Api,
  cluster: string,
  listing: Listing,
  known: KnownTasks,
  { outstanding, drainStartedAt, context }: { outstanding?: Iterable<string>; drainStartedAt: number; context: Record<string, unknown> },
): Promise<Checked> {
  const { deps } = ctx;
  const { logger } = deps;
  const refs = tasksToDescribe(listing, known, outstanding);
  const described = refs.length ? await api.describeTasks(cluster, refs) : { tasks: [], missing: [] };
  const fresh = described.tasks.filter((t): t is typeof t & { taskArn: string } => typeof t.taskArn === 'string');
  const { views, gone } = viewsOf(listing, known, { tasks: fresh, missing: described.missing }, outstanding);
  const stillMissing = views.filter((v) => v.missing);
  if (stillMissing.length) {
    logger.warn('Listed tasks that DescribeTasks answers MISSING (just created, not yet visible): they block until described', {
      ...context,
      missing: stillMissing.slice(0, 5).map((t) => t.taskArn),
      count: stillMissing.length,
    });
  }
  if (gone.length) logger.info('Tasks that blocked the last check are neither listed nor described any more: gone from ECS', { ...context, gone });
  const daemonServices = unclassifiedServices(views, known).length ? await api.daemonServices(cluster) : undefined;
  const verdict = doneTest({
    tasks: views,
    daemonServices: daemonServices ?? knownDaemons(known),
    standalone: deps.settings.standaloneTasks,
    drainStartedAt,
    now: deps.now(),
  });
  return { verdict, knownTasks: learn(known, views, daemonServices), views };
}

/**
 * A service with minimumHealthyPercent = 100 and maximumPercent = 100 can
 * neither stop a task before its replacement runs nor start the replacement
 * first (ECS developer guide, "Draining container instances"): its tasks stay
 * until the drain times out. Said once per drain, at its first check.
 */
async function preflight(ctx: Ctx, api: Api, record: DrainRecord, serviceNames: string[]): Promise<void> {
  const { logger, metrics } = ctx.deps;
  const services = await api.describeServices(record.cluster!, serviceNames);
  for (const service of services) {
    const dc = service.deploymentConfiguration;
    if (dc?.minimumHealthyPercent === 100 && dc?.maximumPercent === 100) {
      logger.warn('Service cannot move its tasks off a draining instance (minimumHealthyPercent = maximumPercent = 100): the drain will wait for its timeout', {
        ...contextOf(record),
        service: service.serviceName,
        drainTimeoutSeconds: ctx.deps.settings.drainTimeoutSeconds,
      });
      metrics.addMetric('UnmovableService', MetricUnit.Count, 1);
    }
  }
}
