/**
 * The done test: is this container instance drained? Pure, so that every
 * rule of it is tested with plain data (test/drain/done.test.ts).
 */

export type StandalonePolicy = 'wait' | 'stop-after' | 'ignore';

/** What DescribeTasks tells of one task; only these fields decide. */
export interface TaskView {
  taskArn: string;
  lastStatus?: string;
  desiredStatus?: string;
  group?: string;
  startedBy?: string;
}

export interface DoneInput {
  tasks: readonly TaskView[];
  /** Names of the cluster's DAEMON services: their tasks stay until the instance goes, by design. */
  daemonServices: ReadonlySet<string>;
  standalone: { policy: StandalonePolicy; stopAfterSeconds: number };
  /** epoch ms the lifecycle action began; stop-after counts from there */
  drainStartedAt: number;
  now: number;
}

export interface DoneVerdict {
  done: boolean;
  /** Counted tasks that are not STOPPED yet. */
  blocking: TaskView[];
  /** Standalone tasks whose stop-after deadline has passed and that nobody has asked to stop yet. */
  toStop: TaskView[];
  /** Tasks left out of the test: daemon-service tasks, and standalone tasks under the `ignore` policy. */
  excluded: TaskView[];
  /** Counted tasks that are STOPPED. */
  stopped: number;
  /** Services with a task on the instance that is not STOPPED yet (daemons excluded). */
  services: string[];
}

const SERVICE_GROUP = 'service:';

/** A service's tasks carry the group `service:<name>` (ECS API reference, Task.group); anything else was started on its own. */
export const serviceOf = (task: TaskView): string | undefined => (task.group?.startsWith(SERVICE_GROUP) ? task.group.slice(SERVICE_GROUP.length) : undefined);

/**
 * Only STOPPED is done. DEACTIVATING (the load balancer's deregistration
 * delay), STOPPING and DEPROVISIONING still hold connections or resources
 * on the instance, and a task without a status is not known to be stopped.
 */
export const isStopped = (task: TaskView): boolean => task.lastStatus === 'STOPPED';

export function doneTest(input: DoneInput): DoneVerdict {
  const { policy, stopAfterSeconds } = input.standalone;
  const deadlinePassed = input.now >= input.drainStartedAt + stopAfterSeconds * 1000;
  const verdict: DoneVerdict = { done: false, blocking: [], toStop: [], excluded: [], stopped: 0, services: [] };
  const services = new Set<string>();
  const seen = new Set<string>();

  for (const task of input.tasks) {
    // The same task can be listed under both desired statuses when it changes between the two ListTasks calls.
    if (seen.has(task.taskArn)) continue;
    seen.add(task.taskArn);
    const service = serviceOf(task);
    if (service !== undefined && input.daemonServices.has(service)) {
      verdict.excluded.push(task);
      continue;
    }
    if (service === undefined && policy === 'ignore') {
      verdict.excluded.push(task);
      continue;
    }
    if (isStopped(task)) {
      verdict.stopped++;
      continue;
    }
    verdict.blocking.push(task);
    if (service !== undefined) services.add(service);
    else if (policy === 'stop-after' && deadlinePassed && task.desiredStatus !== 'STOPPED') verdict.toStop.push(task);
  }
  verdict.services = [...services].sort();
  verdict.done = verdict.blocking.length === 0;
  return verdict;
}

/** The last path segment of a task ARN, the same in the short and the long ARN format. */
export const taskIdOf = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

/** True when the event model says every task that blocked the last check has since been seen STOPPED. */
export function mayBeDone(outstanding: ReadonlySet<string> | undefined, stoppedSeen: ReadonlySet<string> | undefined): boolean {
  if (!outstanding || outstanding.size === 0) return false;
  for (const id of outstanding) if (!stoppedSeen?.has(id)) return false;
  return true;
}

/** The two numbers a drain waits on, for the timeout: has the drain run out of time? */
export const timedOut = (startedAt: number, drainTimeoutSeconds: number, now: number): boolean => now >= startedAt + drainTimeoutSeconds * 1000;

/** Heartbeats go out once the last one is a third of HeartbeatTimeout old, leaving two thirds for a late or throttled tick. */
export const heartbeatDue = (lastHeartbeatAt: number, heartbeatTimeoutSeconds: number, now: number): boolean =>
  now - lastHeartbeatAt >= (heartbeatTimeoutSeconds * 1000) / 3;
