import type { SimClock } from './clock.ts';
import { SimError } from './errors.ts';
import type { EventBus } from './events.ts';
import { TaskLifecycle, type StopOptions } from './ecs-lifecycle.ts';
import { eventTaskDetail } from './ecs-shapes.ts';
import type {
  Cluster,
  ContainerInstance,
  ContainerInstanceStatus,
  Failure,
  LaunchType,
  RememberedRunTask,
  Resources,
  StopCode,
  Tag,
  Task,
  TaskDefinition,
  TaskDefinitionSpec,
} from './ecs-types.ts';
import { hex, uuid, type Random } from './random.ts';

export type * from './ecs-types.ts';
export { ECS_TIMING } from './ecs-lifecycle.ts';

export interface TaskFilter {
  cluster?: string;
  lastStatus?: Task['lastStatus'];
  desiredStatus?: Task['desiredStatus'];
  startedBy?: string;
  family?: string;
  containerInstance?: string;
}

/** What RunTask decided, for EcsSim.createTask. */
export interface NewTask {
  cluster: Cluster;
  definition: TaskDefinition;
  launchType: LaunchType;
  capacityProviderName?: string;
  instance?: ContainerInstance;
  group?: string;
  startedBy?: string;
  tags?: Tag[];
  overrides?: Record<string, any>;
  networkConfiguration?: Record<string, any>;
  awsvpc: boolean;
  reserved: Resources;
  enableExecuteCommand?: boolean;
}

// A t3.medium registers about this much with the agent; enough for a handful of default tasks.
const DEFAULT_INSTANCE: Resources = { cpu: 2048, memory: 3840 };
const DEFAULT_TASK: Resources = { cpu: 256, memory: 512 };
const ZONES = ['a', 'b', 'c'];

/** The last path segment of an ARN, or the reference itself when it is already an id or name. */
export const lastSegment = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);

/**
 * The state behind the ECS API: clusters, container instances, task
 * definitions and tasks, plus the helpers tests use to arrange and inspect it.
 * The wire operations live in ecs-api.ts.
 */
export class EcsSim {
  readonly clusters = new Map<string, Cluster>();
  readonly lifecycle: TaskLifecycle;
  /** RunTask answers by `<cluster ARN> <clientToken>` (ecs-run-task.ts). */
  readonly runTaskTokens = new Map<string, RememberedRunTask>();
  private readonly instances: ContainerInstance[] = [];
  private readonly definitions: TaskDefinition[] = [];
  private readonly taskList: Task[] = [];
  private readonly byId = new Map<string, Task>();
  // Indexes, in creation order like taskList: a scale-in of hundreds of instances places and lists
  // tens of thousands of tasks, and a scan of every task per placement or per call made it quadratic.
  private readonly byInstance = new Map<string, Task[]>();
  private readonly byGroup = new Map<string, Task[]>();
  private readonly scriptedFailures: Failure[] = [];
  /** Called after every task state change, once its event is put on the bus (sim/ecs-draining.ts reacts to them). */
  readonly taskListeners: Array<(task: Task) => void> = [];
  /**
   * How long a new task stays out of ListTasks and DescribeTasks (MISSING)
   * after it was created: "the result of an API command you run that affects
   * your Amazon ECS resources might not be immediately visible to all
   * subsequent commands you run" (ECS API Reference, RunTask). AWS gives no
   * number; 0 (off) unless a test sets one. Events and the container
   * instance's task counts see the task at once.
   */
  visibilityDelayMs = 0;

  constructor(
    private readonly deps: {
      clock: SimClock;
      bus: EventBus;
      ids: Random;
      region: string;
      account: string;
    },
  ) {
    this.lifecycle = new TaskLifecycle({
      clock: deps.clock,
      publish: (task) => this.publish(task),
      released: (task) => this.release(task),
    });
  }

  arn(resource: string): string {
    return `arn:aws:ecs:${this.deps.region}:${this.deps.account}:${resource}`;
  }

  // ---- arranging the world -------------------------------------------------

  addCluster(name: string, opts: { tags?: Tag[] } = {}): Cluster {
    const cluster = { name, arn: this.arn(`cluster/${name}`), tags: opts.tags ?? [] };
    this.clusters.set(name, cluster);
    return cluster;
  }

  addContainerInstance(cluster: string, opts: { ec2InstanceId: string; cpu?: number; memory?: number; availabilityZone?: string }): ContainerInstance {
    const owner = this.requireCluster(cluster);
    const id = hex(this.deps.ids, 32);
    const registered = { cpu: opts.cpu ?? DEFAULT_INSTANCE.cpu, memory: opts.memory ?? DEFAULT_INSTANCE.memory };
    const instance: ContainerInstance = {
      arn: this.arn(`container-instance/${owner.name}/${id}`),
      id,
      clusterName: owner.name,
      ec2InstanceId: opts.ec2InstanceId,
      status: 'ACTIVE',
      registered,
      remaining: { ...registered },
      availabilityZone: opts.availabilityZone ?? `${this.deps.region}${ZONES[this.instances.length % ZONES.length]}`,
      registeredAt: this.deps.clock.now(),
      agentConnected: true,
      version: 1,
      seq: this.instances.length,
    };
    this.instances.push(instance);
    return instance;
  }

  /** By container instance ARN, id, or EC2 instance id. */
  containerInstance(ref: string): ContainerInstance | undefined {
    const id = lastSegment(ref);
    return this.instances.find((i) => i.id === id || i.ec2InstanceId === ref);
  }

  containerInstances(cluster?: string): ContainerInstance[] {
    const name = cluster === undefined ? undefined : lastSegment(cluster);
    return this.instances.filter((i) => name === undefined || i.clusterName === name);
  }

  setContainerInstanceStatus(ref: string, status: ContainerInstanceStatus): ContainerInstance {
    const instance = this.containerInstance(ref);
    if (!instance) throw new Error(`sim: no container instance ${ref}`);
    instance.status = status;
    instance.version++;
    return instance;
  }

  /** `family`, `family:revision` or a task definition ARN. Without a revision, 1 (or the next one if the family exists). */
  defineTaskDefinition(arnOrFamily: string, spec: TaskDefinitionSpec = {}): TaskDefinition {
    const [family, rev] = lastSegment(arnOrFamily).split(':') as [string, string | undefined];
    const revision = rev ? Number(rev) : Math.max(0, ...this.definitions.filter((d) => d.family === family).map((d) => d.revision)) + 1;
    const definition: TaskDefinition = {
      arn: this.arn(`task-definition/${family}:${revision}`),
      family,
      revision,
      cpu: spec.cpu ?? DEFAULT_TASK.cpu,
      memory: spec.memory ?? DEFAULT_TASK.memory,
      runSeconds: spec.runSeconds,
      exitCode: spec.exitCode ?? 0,
      networkMode: spec.networkMode ?? 'bridge',
      loadBalanced: spec.loadBalanced ?? false,
      containers: (spec.containers ?? [{ name: family }]).map((c) => ({ name: c.name, essential: c.essential ?? true, image: c.image ?? `${family}:latest` })),
    };
    const i = this.definitions.findIndex((d) => d.family === family && d.revision === revision);
    if (i >= 0) this.definitions[i] = definition;
    else this.definitions.push(definition);
    return definition;
  }

  /** `family` (latest revision), `family:revision` or ARN, as RunTask accepts. */
  taskDefinition(ref: string): TaskDefinition | undefined {
    const [family, rev] = lastSegment(ref).split(':') as [string, string | undefined];
    const candidates = this.definitions.filter((d) => d.family === family && (rev === undefined || d.revision === Number(rev)));
    return candidates.reduce<TaskDefinition | undefined>((best, d) => (!best || d.revision > best.revision ? d : best), undefined);
  }

  /** The next `times` RunTask calls start nothing and report this failure (arn: the cluster's unless given). */
  failNextRunTask(reason: string, opts: { arn?: string; detail?: string; times?: number } = {}): void {
    for (let i = 0; i < (opts.times ?? 1); i++) this.scriptedFailures.push({ arn: opts.arn, reason, detail: opts.detail });
  }

  takeScriptedFailure(): Failure | undefined {
    return this.scriptedFailures.shift();
  }

  // ---- inspecting and poking tasks -----------------------------------------

  /** By task ARN (either ARN format) or id. */
  /** Whether List and Describe calls show the task yet (visibilityDelayMs). */
  visible(task: Task, now: number): boolean {
    return now >= task.createdAt + this.visibilityDelayMs;
  }

  task(ref: string): Task | undefined {
    return this.byId.get(lastSegment(ref));
  }

  tasks(filter: TaskFilter | ((task: Task) => boolean) = {}): Task[] {
    if (typeof filter === 'function') return this.taskList.filter(filter);
    const instance = filter.containerInstance === undefined ? undefined : (this.containerInstance(filter.containerInstance)?.arn ?? filter.containerInstance);
    return (instance === undefined ? this.taskList : this.tasksOn(instance)).filter(
      (t) =>
        (filter.cluster === undefined || t.clusterName === lastSegment(filter.cluster)) &&
        (filter.lastStatus === undefined || t.lastStatus === filter.lastStatus) &&
        (filter.desiredStatus === undefined || t.desiredStatus === filter.desiredStatus) &&
        (filter.startedBy === undefined || t.startedBy === filter.startedBy) &&
        (filter.family === undefined || t.taskDefinition.family === filter.family) &&
        (instance === undefined || t.containerInstanceArn === instance),
    );
  }

  /** The essential container exits now; the task then stops on the clock like any other. */
  exitTask(ref: string, opts: { exitCode?: number; reason?: string; stopCode?: StopCode } = {}): Task {
    const task = this.requireTask(ref);
    this.lifecycle.exit(task, this.stopOptions(task, opts, false));
    return task;
  }

  /**
   * The task is STOPPED when this returns: it walks every remaining state at
   * the current sim time, each with its event (essential container exit, or
   * `stopCode` as given).
   */
  stopTaskNow(ref: string, opts: { exitCode?: number; reason?: string; stopCode?: StopCode } = {}): Task {
    const task = this.requireTask(ref);
    this.lifecycle.exit(task, this.stopOptions(task, opts, true));
    return task;
  }

  private stopOptions(task: Task, opts: { exitCode?: number; reason?: string; stopCode?: StopCode }, immediate: boolean): StopOptions {
    return {
      stopCode: opts.stopCode ?? 'EssentialContainerExited',
      reason: opts.reason ?? 'Essential container in task exited',
      exitCode: opts.exitCode ?? task.taskDefinition.exitCode,
      immediate,
    };
  }

  // ---- used by the API -----------------------------------------------------

  /** A cluster by name or ARN; `default` when absent, as the API assumes. */
  requireCluster(ref: string | undefined): Cluster {
    const cluster = this.clusters.get(lastSegment(ref ?? 'default'));
    if (!cluster) throw new SimError('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  runningCount(instance: ContainerInstance): number {
    let n = 0;
    for (const t of this.tasksOn(instance.arn)) if (t.lastStatus !== 'STOPPED') n++;
    return n;
  }

  /** The tasks placed on a container instance (by ARN), in creation order. Read only. */
  tasksOn(containerInstanceArn: string): readonly Task[] {
    return this.byInstance.get(containerInstanceArn) ?? [];
  }

  /** The tasks of a cluster with this group (`service:<name>`, `family:<name>`), in creation order. Read only. */
  tasksOfGroup(clusterName: string, group: string): readonly Task[] {
    return this.byGroup.get(`${clusterName}\n${group}`) ?? [];
  }

  createTask(spec: NewTask): Task {
    const now = this.deps.clock.now();
    const id = hex(this.deps.ids, 32);
    const arn = this.arn(`task/${spec.cluster.name}/${id}`);
    const { definition } = spec;
    const task: Task = {
      arn,
      id,
      clusterName: spec.cluster.name,
      clusterArn: spec.cluster.arn,
      taskDefinition: definition,
      containerInstanceArn: spec.instance?.arn,
      launchType: spec.launchType,
      capacityProviderName: spec.capacityProviderName,
      platformVersion: spec.launchType === 'FARGATE' ? '1.4.0' : undefined,
      availabilityZone: spec.instance?.availabilityZone ?? `${this.deps.region}a`,
      lastStatus: spec.awsvpc ? 'PROVISIONING' : 'PENDING',
      desiredStatus: 'RUNNING',
      version: 0,
      group: spec.group ?? `family:${definition.family}`,
      startedBy: spec.startedBy,
      tags: spec.tags ?? [],
      overrides: echoOverrides(definition, spec.overrides),
      networkConfiguration: spec.networkConfiguration,
      awsvpc: spec.awsvpc,
      loadBalanced: definition.loadBalanced,
      reserved: spec.reserved,
      enableExecuteCommand: spec.enableExecuteCommand ?? false,
      containers: definition.containers.map((c) => ({
        arn: this.arn(`container/${spec.cluster.name}/${id}/${uuid(this.deps.ids)}`),
        name: c.name,
        image: c.image,
        essential: c.essential,
        lastStatus: 'PENDING',
      })),
      createdAt: now,
      updatedAt: now,
      connectivity: 'CONNECTED',
      connectivityAt: now,
      seq: this.taskList.length,
    };
    if (spec.instance) {
      spec.instance.remaining.cpu -= spec.reserved.cpu;
      spec.instance.remaining.memory -= spec.reserved.memory;
    }
    this.taskList.push(task);
    this.byId.set(id, task);
    const push = <K>(index: Map<K, Task[]>, key: K) => {
      const list = index.get(key);
      if (list) list.push(task);
      else index.set(key, [task]);
    };
    if (task.containerInstanceArn) push(this.byInstance, task.containerInstanceArn);
    push(this.byGroup, `${task.clusterName}\n${task.group}`);
    this.lifecycle.start(task);
    return task;
  }

  private requireTask(ref: string): Task {
    const task = this.task(ref);
    if (!task) throw new Error(`sim: no task ${ref}`);
    return task;
  }

  private publish(task: Task): void {
    task.version++;
    this.deps.bus.emit('aws.ecs', 'ECS Task State Change', eventTaskDetail(task), [task.arn]);
    for (const listener of this.taskListeners) listener(task);
  }

  private release(task: Task): void {
    const instance = task.containerInstanceArn ? this.containerInstance(task.containerInstanceArn) : undefined;
    if (!instance) return;
    instance.remaining.cpu += task.reserved.cpu;
    instance.remaining.memory += task.reserved.memory;
  }
}

/** DescribeTasks shows one containerOverrides entry per container, with whatever the caller overrode. */
function echoOverrides(definition: TaskDefinition, overrides: Record<string, any> = {}): Record<string, any> {
  const given: Array<Record<string, any>> = overrides.containerOverrides ?? [];
  return {
    ...overrides,
    containerOverrides: definition.containers.map((c) => given.find((o) => o.name === c.name) ?? { name: c.name }),
    inferenceAcceleratorOverrides: overrides.inferenceAcceleratorOverrides ?? [],
  };
}
