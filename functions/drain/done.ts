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
  /** Listed by ListTasks but answered MISSING by DescribeTasks: nothing is known of it but that it is there. */
  missing?: boolean;
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
    if (task.missing) {
      // Its group is unknown, so it can be neither excluded nor stopped on our own: it blocks until ECS describes it.
      verdict.blocking.push(task);
      continue;
    }
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

// ---------------------------------------------------------------------------------------------
// What a drain remembers between its checks, so that a check describes only what may have changed

/**
 * What a drain has learnt of one task, kept in its record by task id. A
 * task's group never changes and STOPPED is its last state: neither is asked
 * of ECS twice.
 */
export interface KnownTask {
  /** Task.group, '' when it has none. */
  group: string;
  stopped?: boolean;
  /** Whether its service schedules DAEMON; absent while nobody has asked (a task described once it was STOPPED). */
  daemon?: boolean;
}
export type KnownTasks = Record<string, KnownTask>;

/** The task ARNs ListTasks gave for the container instance, by desired status. */
export interface Listing {
  running: readonly string[];
  stopped: readonly string[];
}

/**
 * What a check must describe: every task listed under desired status STOPPED
 * that is not known STOPPED yet (it may be DEACTIVATING or STOPPING), every
 * task listed as desired RUNNING that was never described (its group decides
 * whether it counts), and every task that blocked the last check and is no
 * longer listed at all. A known task desired RUNNING is not STOPPED (ECS sets
 * the desired status before the last), so it blocks without a call.
 * Returns ARNs, or task ids for the unlisted ones (DescribeTasks takes both).
 */
export function tasksToDescribe(listing: Listing, known: KnownTasks, outstanding: Iterable<string> = []): string[] {
  const refs = new Map<string, string>();
  const listed = new Set<string>();
  for (const arn of listing.stopped) {
    const id = taskIdOf(arn);
    listed.add(id);
    if (!known[id]?.stopped) refs.set(id, arn);
  }
  for (const arn of listing.running) {
    const id = taskIdOf(arn);
    listed.add(id);
    if (!known[id]) refs.set(id, arn);
  }
  for (const id of outstanding) if (!listed.has(id) && !known[id]?.stopped) refs.set(id, id);
  return [...refs.values()];
}

export interface Described {
  tasks: readonly TaskView[];
  /** ARNs or ids that DescribeTasks answered with failure reason MISSING. */
  missing: readonly string[];
}

/**
 * The tasks of one check, for doneTest: what DescribeTasks said now, and what
 * is known for the rest. A listed task that DescribeTasks calls MISSING is
 * there all the same (a task ECS has just created can be listed before it can
 * be described): it blocks. A task that blocked the last check, is listed no
 * more and is MISSING is gone from ECS, so nothing of it runs: it is `gone`.
 */
export function viewsOf(listing: Listing, known: KnownTasks, described: Described, outstanding: Iterable<string> = []): { views: TaskView[]; gone: string[] } {
  const byId = new Map(described.tasks.map((t) => [taskIdOf(t.taskArn), t]));
  const missing = new Set(described.missing.map(taskIdOf));
  const views = new Map<string, TaskView>();
  const add = (arn: string, desiredStatus: 'RUNNING' | 'STOPPED') => {
    const id = taskIdOf(arn);
    if (views.has(id) && desiredStatus === 'RUNNING') return;
    const fresh = byId.get(id);
    const prior = known[id];
    if (fresh) views.set(id, fresh);
    else if (prior?.stopped) views.set(id, { taskArn: arn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: prior.group || undefined });
    else if (prior && !missing.has(id) && desiredStatus === 'RUNNING') views.set(id, { taskArn: arn, desiredStatus, group: prior.group || undefined });
    else views.set(id, { taskArn: arn, missing: true });
  };
  // STOPPED first: a task listed under both changed between the two calls, and the later answer wins.
  for (const arn of listing.stopped) add(arn, 'STOPPED');
  for (const arn of listing.running) add(arn, 'RUNNING');
  const gone: string[] = [];
  for (const id of outstanding) {
    if (views.has(id) || known[id]?.stopped) continue;
    const fresh = byId.get(id);
    if (fresh) views.set(id, fresh);
    else gone.push(id);
  }
  return { views: [...views.values()], gone };
}

/** Services of tasks still on the instance whose scheduling strategy is not known yet: only these need ListServices. */
export function unclassifiedServices(views: readonly TaskView[], known: KnownTasks): string[] {
  const classified = new Set<string>();
  for (const task of Object.values(known)) if (task.daemon !== undefined) classified.add(task.group);
  const out = new Set<string>();
  for (const view of views) {
    const service = serviceOf(view);
    if (service !== undefined && !isStopped(view) && !view.missing && !classified.has(view.group!)) out.add(service);
  }
  return [...out];
}

/** The DAEMON services known from earlier checks. */
export function knownDaemons(known: KnownTasks): Set<string> {
  const out = new Set<string>();
  for (const task of Object.values(known)) {
    const service = task.daemon ? serviceOf({ taskArn: '', group: task.group }) : undefined;
    if (service !== undefined) out.add(service);
  }
  return out;
}

/** `known` with what this check learnt: groups, STOPPED, and DAEMON or not for the services asked about (`daemonServices`). */
export function learn(known: KnownTasks, views: readonly TaskView[], daemonServices?: ReadonlySet<string>): KnownTasks {
  const next: KnownTasks = { ...known };
  for (const view of views) {
    if (view.missing) continue;
    const id = taskIdOf(view.taskArn);
    const entry: KnownTask = { group: view.group ?? next[id]?.group ?? '' };
    if (isStopped(view) || next[id]?.stopped) entry.stopped = true;
    const service = serviceOf({ taskArn: view.taskArn, group: entry.group });
    const daemon = service !== undefined && daemonServices ? daemonServices.has(service) : next[id]?.daemon;
    if (daemon !== undefined) entry.daemon = daemon;
    next[id] = entry;
  }
  return next;
}

/**
 * How many tasks the container instance counts (runningTasksCount plus
 * pendingTasksCount) beyond those the listing shows not STOPPED. ECS reads are
 * eventually consistent: a task created a moment ago may be counted on its
 * instance before ListTasks shows it. More than 0: the listing is not the
 * whole truth yet, and nothing may complete on it.
 */
export function unlistedCount(counts: { runningTasksCount?: number; pendingTasksCount?: number }, views: readonly TaskView[]): number {
  const counted = (counts.runningTasksCount ?? 0) + (counts.pendingTasksCount ?? 0);
  return Math.max(0, counted - views.filter((v) => !isStopped(v)).length);
}
