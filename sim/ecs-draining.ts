import type { SimClock } from './clock.ts';
import type { OperationHandler } from './dispatcher.ts';
import { SimError } from './errors.ts';
import { decodeToken, encodeToken } from './page-token.ts';
import type { EventBus } from './events.ts';
import { lastSegment, type EcsSim } from './ecs.ts';
import { place } from './ecs-placement.ts';
import type { ContainerInstance, Failure, Task, TaskDefinition } from './ecs-types.ts';
import { hex, type Random } from './random.ts';

/**
 * ECS services, container instance draining and capacity providers, on top of
 * the task model in ecs.ts (ECS developer guide, "Draining Amazon ECS
 * container instances"):
 * - a DRAINING instance takes no new task; its PENDING service tasks stop at
 *   once; its RUNNING service tasks are replaced within the service's
 *   deployment configuration: start the replacement first while the count is
 *   under maximumPercent, or stop first while it stays at or above
 *   minimumHealthyPercent. With min = max = 100 neither is allowed and the
 *   tasks stay (the case the drain function warns about);
 * - replacements land on ACTIVE instances with room, or nowhere;
 * - standalone tasks are left alone, and so are DAEMON service tasks, which
 *   stay until the instance goes away;
 * - every status change and every task that leaves an instance emits an
 *   "ECS Container Instance State Change" with a growing detail.version.
 */

export interface SimService {
  name: string;
  arn: string;
  clusterName: string;
  clusterArn: string;
  taskDefinition: TaskDefinition;
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  schedulingStrategy: 'REPLICA' | 'DAEMON';
  startedBy: string;
  createdAt: number;
  seq: number;
  settings?: ServiceSettings;
}

/** Settings DescribeServices shows as CreateService set them; the scheduler here does not act on them. */
export interface ServiceSettings {
  loadBalancers?: Array<{ targetGroupArn?: string; loadBalancerName?: string; containerName?: string; containerPort?: number }>;
  healthCheckGracePeriodSeconds?: number;
  deploymentCircuitBreaker?: { enable: boolean; rollback: boolean };
}

export interface SimCapacityProvider {
  name: string;
  arn: string;
  autoScalingGroupArn: string;
  managedDraining: 'ENABLED' | 'DISABLED';
}

export interface AddServiceOptions {
  name: string;
  taskDefinition: string;
  /** REPLICA: how many tasks; defaults to the sum of `on`. */
  desiredCount?: number;
  minimumHealthyPercent?: number;
  maximumPercent?: number;
  schedulingStrategy?: 'REPLICA' | 'DAEMON';
  /** Where the initial tasks go (container instance ARN, id or EC2 instance id); spread by placement otherwise. */
  on?: Array<{ instance: string; count: number }>;
  settings?: ServiceSettings;
}

// ListServices: "up to 100 results"; 10 without maxResults. DescribeServices: "up to 10 services".
// DescribeCapacityProviders: maxResults up to 10. UpdateContainerInstancesState: up to 10 instances. (ECS API reference)
const LIST_MAX = 100;
const LIST_SERVICES_DEFAULT = 10;
const DESCRIBE_SERVICES_MAX = 10;
const CAPACITY_PROVIDERS_PAGE = 10;
const UPDATE_INSTANCES_MAX = 10;

const invalid = (message: string) => new SimError('InvalidParameterException', message);

export class EcsDrainingSim {
  readonly services = new Map<string, SimService>();
  readonly capacityProviders: SimCapacityProvider[] = [];
  /** victim task id → its replacement, started before the victim is stopped */
  private readonly replacements = new Map<string, Task>();
  private scheduling = false;
  private rescheduleServices = new Set<SimService>();

  constructor(private readonly deps: { ecs: EcsSim; clock: SimClock; bus: EventBus; ids: Random; region: string; account: string }) {
    deps.ecs.taskListeners.push((task) => this.onTask(task));
  }

  private get ecs(): EcsSim {
    return this.deps.ecs;
  }

  // ---- arranging -----------------------------------------------------------

  addService(cluster: string, opts: AddServiceOptions): SimService {
    const owner = this.ecs.requireCluster(cluster);
    const definition = this.ecs.taskDefinition(opts.taskDefinition) ?? this.ecs.defineTaskDefinition(opts.taskDefinition);
    const strategy = opts.schedulingStrategy ?? 'REPLICA';
    const placed = (opts.on ?? []).reduce((n, o) => n + o.count, 0);
    const service: SimService = {
      name: opts.name,
      arn: this.ecs.arn(`service/${owner.name}/${opts.name}`),
      clusterName: owner.name,
      clusterArn: owner.arn,
      taskDefinition: definition,
      desiredCount: strategy === 'DAEMON' ? 0 : (opts.desiredCount ?? placed),
      minimumHealthyPercent: opts.minimumHealthyPercent ?? (strategy === 'DAEMON' ? 0 : 100),
      maximumPercent: opts.maximumPercent ?? (strategy === 'DAEMON' ? 100 : 200),
      schedulingStrategy: strategy,
      startedBy: `ecs-svc/${hex(this.deps.ids, 19).replace(/[a-f]/g, (c) => String(c.charCodeAt(0) % 10))}`,
      createdAt: this.deps.clock.now(),
      seq: this.services.size,
      settings: opts.settings,
    };
    this.services.set(`${owner.name}/${opts.name}`, service);
    if (strategy === 'DAEMON') {
      for (const instance of this.ecs.containerInstances(owner.name).filter((i) => i.status === 'ACTIVE')) this.startTask(service, instance);
      service.desiredCount = this.ecs.containerInstances(owner.name).filter((i) => i.status === 'ACTIVE').length;
      return service;
    }
    for (const { instance, count } of opts.on ?? []) {
      const target = this.ecs.containerInstance(instance);
      if (!target) throw new Error(`sim: no container instance ${instance}`);
      for (let i = 0; i < count; i++) this.startTask(service, target);
    }
    for (let i = placed; i < service.desiredCount; i++) {
      const target = this.placeFor(service);
      if (!target) throw new Error(`sim: no room in ${owner.name} for a task of service ${service.name}`);
      this.startTask(service, target);
    }
    return service;
  }

  service(cluster: string, name: string): SimService | undefined {
    return this.services.get(`${lastSegment(cluster)}/${name}`);
  }

  /** A standalone task (RunTask-like) on a chosen instance: group `family:<family>` unless given. */
  runStandalone(instance: string, taskDefinition: string, opts: { group?: string; startedBy?: string } = {}): Task {
    const target = this.ecs.containerInstance(instance);
    if (!target) throw new Error(`sim: no container instance ${instance}`);
    const definition = this.ecs.taskDefinition(taskDefinition) ?? this.ecs.defineTaskDefinition(taskDefinition);
    const cluster = this.ecs.requireCluster(target.clusterName);
    return this.ecs.createTask({
      cluster,
      definition,
      launchType: 'EC2',
      instance: target,
      group: opts.group,
      startedBy: opts.startedBy,
      awsvpc: definition.networkMode === 'awsvpc',
      reserved: { cpu: definition.cpu, memory: definition.memory },
    });
  }

  addCapacityProvider(opts: { name: string; autoScalingGroupArn: string; managedDraining?: 'ENABLED' | 'DISABLED' }): SimCapacityProvider {
    const provider = {
      name: opts.name,
      arn: this.ecs.arn(`capacity-provider/${opts.name}`),
      autoScalingGroupArn: opts.autoScalingGroupArn,
      managedDraining: opts.managedDraining ?? 'ENABLED',
    };
    this.capacityProviders.push(provider);
    return provider;
  }

  /** Sets an instance DRAINING (or ACTIVE) as UpdateContainerInstancesState does, with its event. */
  setStatus(instance: ContainerInstance, status: 'DRAINING' | 'ACTIVE' | 'INACTIVE'): void {
    if (instance.status === status) return;
    instance.status = status;
    if (status === 'INACTIVE') instance.agentConnected = false;
    this.emitInstance(instance);
    if (status === 'DRAINING') this.drainInstance(instance);
  }

  /**
   * The EC2 instance left its Auto Scaling group: terminated (or stopped into a
   * warm pool), everything on it stops and the container instance is
   * deregistered. A retained instance keeps running as it is.
   */
  instanceLeft(ec2InstanceId: string, fate: 'terminated' | 'retained' | 'warm-pool'): void {
    if (fate === 'retained') return;
    const instance = this.ecs.containerInstances().find((i) => i.ec2InstanceId === ec2InstanceId && i.status !== 'INACTIVE');
    if (!instance) return;
    for (const task of this.ecs.tasks({ containerInstance: instance.arn }).filter((t) => t.lastStatus !== 'STOPPED')) {
      this.ecs.stopTaskNow(task.arn, { stopCode: 'TerminationNotice', reason: `Host EC2 (instance ${ec2InstanceId}) terminated.` });
    }
    this.setStatus(instance, 'INACTIVE');
  }

  // ---- the scheduler ---------------------------------------------------------

  private startTask(service: SimService, instance: ContainerInstance): Task {
    const definition = service.taskDefinition;
    return this.ecs.createTask({
      cluster: this.ecs.requireCluster(service.clusterName),
      definition,
      launchType: 'EC2',
      instance,
      group: `service:${service.name}`,
      startedBy: service.startedBy,
      awsvpc: definition.networkMode === 'awsvpc',
      reserved: { cpu: definition.cpu, memory: definition.memory },
    });
  }

  private placeFor(service: SimService): ContainerInstance | undefined {
    const decision = place(this.ecs.containerInstances(service.clusterName), { cpu: service.taskDefinition.cpu, memory: service.taskDefinition.memory }, (i) =>
      this.ecs.runningCount(i),
    );
    return 'instance' in decision ? decision.instance : undefined;
  }

  private drainInstance(instance: ContainerInstance): void {
    for (const service of this.services.values()) {
      if (service.clusterName === instance.clusterName && service.schedulingStrategy === 'REPLICA') this.rescheduleServices.add(service);
    }
    this.schedule();
  }

  private onTask(task: Task): void {
    if (task.lastStatus === 'STOPPED' && task.containerInstanceArn) {
      const instance = this.ecs.containerInstance(task.containerInstanceArn);
      // The agent gives the task's resources back: the instance changes, and says so.
      if (instance && instance.status !== 'INACTIVE') this.emitInstance(instance);
    }
    const service = task.group.startsWith('service:') ? this.services.get(`${task.clusterName}/${task.group.slice('service:'.length)}`) : undefined;
    if (service?.schedulingStrategy === 'REPLICA' && (task.lastStatus === 'RUNNING' || task.lastStatus === 'STOPPED')) {
      this.rescheduleServices.add(service);
      this.schedule();
    }
  }

  /** Runs the service scheduler for every service that has something to do; re-entrant calls queue up. */
  private schedule(): void {
    if (this.scheduling) return;
    this.scheduling = true;
    try {
      while (this.rescheduleServices.size) {
        const [service] = this.rescheduleServices;
        this.rescheduleServices.delete(service!);
        this.step(service!);
      }
    } finally {
      this.scheduling = false;
    }
  }

  private step(service: SimService): void {
    const draining = new Set(
      this.ecs
        .containerInstances(service.clusterName)
        .filter((i) => i.status === 'DRAINING')
        .map((i) => i.arn),
    );
    const mine = this.ecs.tasksOfGroup(service.clusterName, `service:${service.name}`);
    const victims = mine.filter((t) => t.desiredStatus === 'RUNNING' && t.containerInstanceArn !== undefined && draining.has(t.containerInstanceArn));
    if (!victims.length) return;
    const minRunning = Math.ceil((service.desiredCount * service.minimumHealthyPercent) / 100);
    const maxTasks = Math.floor((service.desiredCount * service.maximumPercent) / 100);
    let alive = mine.filter((t) => t.desiredStatus === 'RUNNING').length;
    let running = mine.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING').length;

    for (const victim of victims) {
      const replacement = this.replacements.get(victim.id);
      if (replacement) {
        if (replacement.lastStatus === 'RUNNING') {
          this.replacements.delete(victim.id);
          this.stopVictim(victim);
          alive--;
        } else if (replacement.desiredStatus === 'STOPPED') {
          this.replacements.delete(victim.id);
        }
        continue;
      }
      if (victim.lastStatus !== 'RUNNING') {
        // Not running yet: stopped at once, replaced if there is room.
        this.stopVictim(victim);
        alive--;
        if (this.launchReplacement(service)) alive++;
        continue;
      }
      if (running - 1 >= minRunning) {
        this.stopVictim(victim);
        running--;
        alive--;
        if (this.launchReplacement(service)) alive++;
        continue;
      }
      if (alive + 1 <= maxTasks) {
        const started = this.launchReplacement(service);
        if (started) {
          this.replacements.set(victim.id, started);
          alive++;
        }
      }
      // Otherwise neither bound allows a move: the task stays until something changes.
    }
  }

  private launchReplacement(service: SimService): Task | undefined {
    const target = this.placeFor(service);
    return target ? this.startTask(service, target) : undefined;
  }

  private stopVictim(task: Task): void {
    this.ecs.lifecycle.stop(task, {
      stopCode: 'ServiceSchedulerInitiated',
      reason: `Service ${this.serviceOf(task)} task stopped: container instance is DRAINING`,
    });
  }

  private serviceOf(task: Task): string {
    return task.group.slice('service:'.length);
  }

  // ---- wire shapes and events ------------------------------------------------

  private counts(instance: ContainerInstance) {
    const tasks = this.ecs.tasks({ containerInstance: instance.arn });
    return {
      runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((t) => t.lastStatus === 'PENDING' || t.lastStatus === 'PROVISIONING').length,
    };
  }

  private resources(r: { cpu: number; memory: number }) {
    return [
      { name: 'CPU', type: 'INTEGER', integerValue: r.cpu },
      { name: 'MEMORY', type: 'INTEGER', integerValue: r.memory },
    ];
  }

  apiContainerInstance(instance: ContainerInstance) {
    return {
      containerInstanceArn: instance.arn,
      ec2InstanceId: instance.ec2InstanceId,
      status: instance.status,
      agentConnected: instance.agentConnected,
      version: instance.version,
      versionInfo: { agentVersion: '1.89.0', agentHash: 'sim', dockerVersion: 'DockerVersion: 25.0.8' },
      registeredResources: this.resources(instance.registered),
      remainingResources: this.resources(instance.remaining),
      registeredAt: instance.registeredAt / 1000,
      attributes: [{ name: 'ecs.availability-zone', value: instance.availabilityZone }],
      ...this.counts(instance),
    };
  }

  /** The detail as in test/fixtures/aws-events/ecs-container-instance-state-change-active-docs.json (no task counts there). */
  private emitInstance(instance: ContainerInstance): void {
    instance.version++;
    const cluster = this.ecs.requireCluster(instance.clusterName);
    this.deps.bus.emit(
      'aws.ecs',
      'ECS Container Instance State Change',
      {
        agentConnected: instance.agentConnected,
        attributes: [{ name: 'ecs.availability-zone', value: instance.availabilityZone }],
        clusterArn: cluster.arn,
        containerInstanceArn: instance.arn,
        ec2InstanceId: instance.ec2InstanceId,
        registeredResources: this.resources(instance.registered),
        remainingResources: this.resources(instance.remaining),
        status: instance.status,
        version: instance.version,
        versionInfo: { agentVersion: '1.89.0', agentHash: 'sim', dockerVersion: 'DockerVersion: 25.0.8' },
        updatedAt: new Date(this.deps.clock.now()).toISOString(),
      },
      [instance.arn],
    );
  }

  private apiService(service: SimService) {
    const tasks = this.ecs.tasksOfGroup(service.clusterName, `service:${service.name}`).filter((t) => t.desiredStatus === 'RUNNING');
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: service.clusterArn,
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingCount: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
      launchType: 'EC2',
      taskDefinition: service.taskDefinition.arn,
      schedulingStrategy: service.schedulingStrategy,
      deploymentConfiguration: {
        minimumHealthyPercent: service.minimumHealthyPercent,
        maximumPercent: service.maximumPercent,
        ...(service.settings?.deploymentCircuitBreaker ? { deploymentCircuitBreaker: service.settings.deploymentCircuitBreaker } : {}),
      },
      ...(service.settings?.loadBalancers ? { loadBalancers: service.settings.loadBalancers } : {}),
      ...(service.settings?.healthCheckGracePeriodSeconds !== undefined
        ? { healthCheckGracePeriodSeconds: service.settings.healthCheckGracePeriodSeconds }
        : {}),
      createdAt: service.createdAt / 1000,
    };
  }

  /** The ECS operations this module adds to the 'ecs' service of the simulator. */
  operations(): Record<string, OperationHandler> {
    const ecs = this.ecs;
    return {
      ListContainerInstances: (input) => {
        const cluster = ecs.requireCluster(input.cluster);
        const max = input.maxResults ?? LIST_MAX;
        if (!Number.isInteger(max) || max < 1 || max > LIST_MAX) throw invalid(`maxResults must be between 1 and ${LIST_MAX}.`);
        const match = matchFilter(input.filter);
        const after = decodeToken(input.nextToken);
        // Without `status`, every status but INACTIVE is listed (ListContainerInstances, ECS API reference).
        const matching = ecs
          .containerInstances(cluster.name)
          .filter((i) => i.seq > after && (input.status ? i.status === input.status : i.status !== 'INACTIVE') && match(i));
        const page = matching.slice(0, max);
        const last = page[page.length - 1];
        return { containerInstanceArns: page.map((i) => i.arn), nextToken: matching.length > max && last ? encodeToken(last.seq) : undefined };
      },

      DescribeContainerInstances: (input) => {
        const cluster = ecs.requireCluster(input.cluster);
        const refs: string[] = input.containerInstances ?? [];
        if (refs.length === 0 || refs.length > LIST_MAX) throw invalid(`containerInstances must hold 1 to ${LIST_MAX} entries.`);
        const containerInstances = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const instance = ecs.containerInstance(ref);
          if (instance && instance.clusterName === cluster.name) containerInstances.push(this.apiContainerInstance(instance));
          else failures.push({ arn: ref, reason: 'MISSING' });
        }
        return { containerInstances, failures };
      },

      UpdateContainerInstancesState: (input) => {
        const cluster = ecs.requireCluster(input.cluster);
        const refs: string[] = input.containerInstances ?? [];
        if (refs.length === 0 || refs.length > UPDATE_INSTANCES_MAX) throw invalid(`containerInstances must hold 1 to ${UPDATE_INSTANCES_MAX} entries.`);
        const status = input.status;
        if (status !== 'DRAINING' && status !== 'ACTIVE') throw invalid(`Invalid status: ${status}`);
        const containerInstances = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const instance = ecs.containerInstance(ref);
          if (!instance || instance.clusterName !== cluster.name) {
            failures.push({ arn: ref, reason: 'MISSING' });
            continue;
          }
          if (status === 'DRAINING' && instance.status !== 'ACTIVE' && instance.status !== 'DRAINING') {
            throw invalid(`Container instance ${instance.arn} is ${instance.status}: only an ACTIVE container instance can be set to DRAINING.`);
          }
          if (status === 'ACTIVE' && instance.status !== 'DRAINING' && instance.status !== 'ACTIVE') {
            throw invalid(`Container instance ${instance.arn} is ${instance.status}: only a DRAINING container instance can be set to ACTIVE.`);
          }
          this.setStatus(instance, status);
          containerInstances.push(this.apiContainerInstance(instance));
        }
        return { containerInstances, failures };
      },

      ListServices: (input) => {
        const cluster = ecs.requireCluster(input.cluster);
        const max = input.maxResults ?? LIST_SERVICES_DEFAULT;
        if (!Number.isInteger(max) || max < 1 || max > LIST_MAX) throw invalid(`maxResults must be between 1 and ${LIST_MAX}.`);
        const after = decodeToken(input.nextToken);
        const matching = [...this.services.values()].filter(
          (s) =>
            s.clusterName === cluster.name &&
            s.seq > after &&
            (input.schedulingStrategy === undefined || s.schedulingStrategy === input.schedulingStrategy) &&
            (input.launchType === undefined || input.launchType === 'EC2'),
        );
        const page = matching.slice(0, max);
        const last = page[page.length - 1];
        return { serviceArns: page.map((s) => s.arn), nextToken: matching.length > max && last ? encodeToken(last.seq) : undefined };
      },

      DescribeServices: (input) => {
        const cluster = ecs.requireCluster(input.cluster);
        const refs: string[] = input.services ?? [];
        if (refs.length === 0) throw invalid('Services cannot be empty.');
        if (refs.length > DESCRIBE_SERVICES_MAX) throw invalid(`Services cannot have more than ${DESCRIBE_SERVICES_MAX} elements.`);
        const services = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const service = this.services.get(`${cluster.name}/${lastSegment(ref)}`);
          if (service) services.push(this.apiService(service));
          else failures.push({ arn: ref.startsWith('arn:') ? ref : ecs.arn(`service/${cluster.name}/${ref}`), reason: 'MISSING' });
        }
        return { services, failures };
      },

      DescribeCapacityProviders: (input) => {
        const names: string[] | undefined = input.capacityProviders?.length ? input.capacityProviders : undefined;
        const max = input.maxResults ?? CAPACITY_PROVIDERS_PAGE;
        if (!Number.isInteger(max) || max < 1 || max > CAPACITY_PROVIDERS_PAGE) throw invalid(`maxResults must be between 1 and ${CAPACITY_PROVIDERS_PAGE}.`);
        const after = decodeToken(input.nextToken);
        const matching = this.capacityProviders
          .map((cp, seq) => ({ cp, seq }))
          .filter(({ cp, seq }) => seq > after && (!names || names.some((n) => n === cp.name || n === cp.arn)));
        const page = matching.slice(0, max);
        const last = page[page.length - 1];
        return {
          capacityProviders: page.map(({ cp }) => ({
            capacityProviderArn: cp.arn,
            name: cp.name,
            status: 'ACTIVE',
            autoScalingGroupProvider: {
              autoScalingGroupArn: cp.autoScalingGroupArn,
              managedScaling: { status: 'DISABLED' },
              managedTerminationProtection: 'DISABLED',
              managedDraining: cp.managedDraining,
            },
          })),
          failures: [],
          nextToken: matching.length > max && last ? encodeToken(last.seq) : undefined,
        };
      },
    };
  }
}

/**
 * The one cluster query language expression the drain uses,
 * `ec2InstanceId == i-...` ("Cluster query language", ECS developer guide);
 * anything else is refused rather than silently matched wrong.
 */
function matchFilter(filter: string | undefined): (instance: ContainerInstance) => boolean {
  if (filter === undefined || filter.trim() === '') return () => true;
  const m = /^\s*ec2InstanceId\s*==\s*(\S+)\s*$/.exec(filter);
  if (!m) throw invalid(`sim: unsupported cluster query expression: ${filter}`);
  return (instance) => instance.ec2InstanceId === m[1];
}
