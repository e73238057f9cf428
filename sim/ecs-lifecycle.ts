import type { SimClock } from './clock.ts';
import type { LastStatus, StopCode, Task } from './ecs-types.ts';

/**
 * Simulated durations of each phase. Real ones range from seconds to minutes
 * (image pulls, ENI attachment, a load balancer's deregistration delay); a few
 * seconds keep tests short while every state is still observable on its own.
 */
export const ECS_TIMING = {
  provisionMs: 2_000,
  pullMs: 3_000,
  activateMs: 1_000,
  /** from StopTask until the agent starts stopping */
  stopNoticeMs: 1_000,
  deactivateMs: 2_000,
  stoppingMs: 2_000,
  deprovisionMs: 3_000,
};

/** 128 + SIGTERM: what a container that exits on the agent's SIGTERM reports. */
const SIGTERM_EXIT = 143;

interface Step {
  delayMs: number;
  apply(): void;
}

export interface StopOptions {
  stopCode: StopCode;
  reason?: string;
  /** exit code of the essential container(s); others exit 0 */
  exitCode?: number;
  /** walk every remaining state now instead of on the clock */
  immediate?: boolean;
}

/**
 * Walks a task through the documented lifecycle ("Amazon ECS task lifecycle",
 * ECS Developer Guide): PROVISIONING (awsvpc only) → PENDING → ACTIVATING (with
 * a load balancer) → RUNNING, then DEACTIVATING (with a load balancer) →
 * STOPPING → DEPROVISIONING (awsvpc only) → STOPPED. Every change goes through
 * `publish`, which bumps `version` and emits the state-change event.
 */
export class TaskLifecycle {
  // A newer walk (a StopTask during startup, stopTaskNow during stopping) makes the older walk's timers no-ops.
  private readonly walks = new WeakMap<Task, number>();
  private nextWalk = 0;

  constructor(
    private readonly deps: {
      clock: SimClock;
      publish(task: Task): void;
      released(task: Task): void;
    },
  ) {}

  /** Publishes the new task (version 1) and schedules its start; the creator sets PROVISIONING (awsvpc) or PENDING. */
  start(task: Task): void {
    const T = ECS_TIMING;
    if (task.lastStatus === 'PENDING') task.pullStartedAt = task.createdAt;
    this.deps.publish(task);
    let walk = 0;
    const running = () => {
      this.enterRunning(task);
      const { runSeconds, exitCode } = task.taskDefinition;
      if (runSeconds === undefined) return;
      this.deps.clock.after(runSeconds * 1000, () => {
        if (this.walks.get(task) === walk) this.exit(task, { stopCode: 'EssentialContainerExited', reason: 'Essential container in task exited', exitCode });
      });
    };
    const steps: Step[] = [];
    if (task.awsvpc) steps.push({ delayMs: T.provisionMs, apply: () => this.enterPending(task) });
    if (task.loadBalanced) steps.push({ delayMs: T.pullMs, apply: () => (task.lastStatus = 'ACTIVATING') });
    steps.push({ delayMs: task.loadBalanced ? T.activateMs : T.pullMs, apply: running });
    walk = this.walk(task, steps, false);
  }

  private enterPending(task: Task): void {
    task.lastStatus = 'PENDING';
    task.pullStartedAt = this.deps.clock.now();
  }

  /** An essential container exited: the task is stopping from this instant. */
  exit(task: Task, opts: StopOptions): void {
    if (task.desiredStatus === 'STOPPED') {
      this.finishIfImmediate(task, opts);
      return;
    }
    const [first, ...rest] = this.remainingStopStates(task);
    const steps: Step[] = [
      {
        delayMs: 0,
        apply: () => {
          this.markStopping(task, opts);
          this.stopContainers(task, opts.exitCode ?? 0, 0);
          task.lastStatus = first!;
        },
      },
      ...this.stateSteps(task, first!, rest),
    ];
    this.walk(task, steps, !!opts.immediate);
  }

  /** StopTask, or the scheduler stopping it: containers get SIGTERM once the agent acts. */
  stop(task: Task, opts: StopOptions): void {
    if (task.desiredStatus === 'STOPPED') {
      this.finishIfImmediate(task, opts);
      return;
    }
    const [first, ...rest] = this.remainingStopStates(task);
    const steps: Step[] = [
      { delayMs: 0, apply: () => this.markStopping(task, opts) },
      { delayMs: ECS_TIMING.stopNoticeMs, apply: () => (task.lastStatus = first!) },
      ...this.stateSteps(task, first!, rest, () => this.stopContainers(task, opts.exitCode ?? SIGTERM_EXIT, SIGTERM_EXIT)),
    ];
    this.walk(task, steps, !!opts.immediate);
  }

  /** A task already stopping: with `immediate`, the rest of its path happens now. */
  private finishIfImmediate(task: Task, opts: StopOptions): void {
    if (!opts.immediate) return;
    const steps = this.stateSteps(task, task.lastStatus, this.remainingStopStates(task), () => this.stopContainers(task, SIGTERM_EXIT, SIGTERM_EXIT));
    this.walk(task, steps, true);
  }

  private remainingStopStates(task: Task): LastStatus[] {
    const path: LastStatus[] = [];
    if (task.loadBalanced && task.startedAt !== undefined) path.push('DEACTIVATING');
    path.push('STOPPING');
    if (task.awsvpc) path.push('DEPROVISIONING');
    path.push('STOPPED');
    const at = path.indexOf(task.lastStatus);
    return at >= 0 ? path.slice(at + 1) : path;
  }

  /** Steps into each of `next`, with the delay of the state being left; `onLeaveStopping` runs as STOPPING ends. */
  private stateSteps(task: Task, from: LastStatus, next: LastStatus[], onLeaveStopping?: () => void): Step[] {
    const T = ECS_TIMING;
    const leaving: Partial<Record<LastStatus, number>> = { DEACTIVATING: T.deactivateMs, STOPPING: T.stoppingMs, DEPROVISIONING: T.deprovisionMs };
    let previous = from;
    return next.map((state) => {
      const left = previous;
      previous = state;
      return {
        delayMs: leaving[left] ?? 0,
        apply: () => {
          if (left === 'STOPPING') onLeaveStopping?.();
          if (state === 'STOPPED') this.enterStopped(task);
          else task.lastStatus = state;
        },
      };
    });
  }

  private walk(task: Task, steps: Step[], immediate: boolean): number {
    const id = ++this.nextWalk;
    this.walks.set(task, id);
    const run = (i: number): void => {
      const step = steps[i];
      if (!step) return;
      const go = () => {
        if (this.walks.get(task) !== id) return;
        step.apply();
        task.updatedAt = this.deps.clock.now();
        this.deps.publish(task);
        run(i + 1);
      };
      if (immediate || step.delayMs === 0) go();
      else this.deps.clock.after(step.delayMs, go);
    };
    run(0);
    return id;
  }

  private enterRunning(task: Task): void {
    const now = this.deps.clock.now();
    task.lastStatus = 'RUNNING';
    task.pullStartedAt ??= now;
    task.pullStoppedAt = now;
    task.startedAt = now;
    for (const c of task.containers) {
      c.lastStatus = 'RUNNING';
      c.runtimeId = `${task.id}-${c.name}`;
    }
  }

  private markStopping(task: Task, opts: StopOptions): void {
    task.desiredStatus = 'STOPPED';
    task.stopCode = opts.stopCode;
    task.stoppedReason = opts.reason;
    task.stoppingAt = this.deps.clock.now();
  }

  /** Exit codes apply to containers that were running; one that never ran has none. */
  private stopContainers(task: Task, essentialExit?: number, othersExit?: number): void {
    if (task.containers.every((c) => c.lastStatus === 'STOPPED')) return;
    for (const c of task.containers) {
      if (c.lastStatus === 'STOPPED') continue;
      const ran = c.lastStatus === 'RUNNING';
      c.lastStatus = 'STOPPED';
      c.exitCode = !ran ? undefined : c.essential ? essentialExit : othersExit;
    }
    task.executionStoppedAt = this.deps.clock.now();
  }

  private enterStopped(task: Task): void {
    this.stopContainers(task);
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.deps.clock.now();
    task.connectivity = 'DISCONNECTED';
    this.deps.released(task);
  }
}
