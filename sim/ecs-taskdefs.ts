import type { OperationHandler } from './dispatcher.ts';
import { lastSegment, type EcsSim } from './ecs.ts';
import type { TaskDefinition } from './ecs-types.ts';
import { SimError } from './errors.ts';
import type { Sim } from './index.ts';

/**
 * Task definitions as ECS describes them: RegisterTaskDefinition and
 * DescribeTaskDefinition (awsJson1_1) with the full container definitions,
 * on top of the revisions ecs.ts keeps for RunTask and services.
 *
 * A definition registered here also exists in ecs.ts (same family, same
 * revision, cpu and memory for placement), so services and RunTask use it
 * unchanged. One made with `sim.ecs.defineTaskDefinition` is described from
 * what ecs.ts knows: its containers' names, images and essential flags.
 *
 * What ECS adds when it registers (compare ../test/audit/fixtures/orders-worker.describe.json,
 * a real describe-task-definition output): every container gets `cpu: 0`,
 * `essential: true`, and empty `portMappings`, `environment`, `mountPoints`,
 * `volumesFrom` and `systemControls` when not given; in awsvpc mode a port
 * mapping's hostPort is its containerPort; the task gets `status: "ACTIVE"`,
 * empty `volumes` and `placementConstraints`, `registeredAt` and
 * `compatibilities`; a task-level cpu in vCPU or memory in GB is stored in
 * CPU units and MiB (TaskDefinition cpu/memory, ECS API reference).
 */

// "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed." (RegisterTaskDefinition family)
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
// Container names: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed." (ContainerDefinition name)
const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const NETWORK_MODES = new Set(['bridge', 'host', 'awsvpc', 'none']);
// Tags are returned beside the definition; the rest ECS sets itself, and a describe-task-definition output fed back in carries them.
const NOT_REGISTERED = new Set([
  'tags',
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
]);

const client = (message: string) => new SimError('ClientException', message);

type Json = Record<string, any>;

/** "1 vCPU" → "1024", "2 GB" → "2048"; numbers as strings stay as they are. */
function toUnits(value: unknown, unit: 'vcpu' | 'gb', field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return text;
  const m = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*${unit}$`, 'i').exec(text);
  if (!m) throw client(`Invalid '${field}' setting for task: ${text}`);
  return String(Math.round(Number(m[1]) * 1024));
}

function describeContainer(c: Json, networkMode: string): Json {
  const portMappings = ((c.portMappings ?? []) as Json[]).map((p) => ({
    ...p,
    ...(networkMode === 'awsvpc' && p.containerPort !== undefined ? { hostPort: p.hostPort ?? p.containerPort } : {}),
    protocol: p.protocol ?? 'tcp',
  }));
  return {
    ...c,
    cpu: c.cpu ?? 0,
    portMappings,
    essential: c.essential ?? true,
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    volumesFrom: c.volumesFrom ?? [],
    systemControls: c.systemControls ?? [],
  };
}

/**
 * The launch types ECS validated the definition against. Inferred from real
 * describe outputs, not documented field by field: EXTERNAL and EC2 for
 * bridge/host/none, EC2 and FARGATE for awsvpc with task-level cpu and memory.
 */
function compatibilities(networkMode: string, cpu: string | undefined, memory: string | undefined): string[] {
  if (networkMode !== 'awsvpc') return ['EXTERNAL', 'EC2'];
  return cpu !== undefined && memory !== undefined ? ['EC2', 'FARGATE'] : ['EC2'];
}

export class EcsTaskDefinitionsSim {
  /** The described form of every definition registered here, by ARN. */
  private readonly described = new Map<string, Json>();

  constructor(private readonly deps: { ecs: EcsSim; now: () => number }) {}

  /**
   * RegisterTaskDefinition: takes its input (the `register-task-definition
   * --cli-input-json` shape) and returns the described task definition.
   */
  register(input: Json): Json {
    const family: unknown = input.family;
    if (typeof family !== 'string' || !FAMILY.test(family))
      throw client('Family contains invalid characters: up to 255 letters, numbers, underscores and hyphens are allowed.');
    const containers: Json[] = Array.isArray(input.containerDefinitions) ? input.containerDefinitions : [];
    if (containers.length === 0) throw client('Container list cannot be empty.');
    const names = new Set<string>();
    for (const c of containers) {
      if (typeof c?.name !== 'string' || !CONTAINER_NAME.test(c.name))
        throw client('Container name contains invalid characters: up to 255 letters, numbers, underscores and hyphens are allowed.');
      if (names.has(c.name)) throw client(`Duplicate container name: ${c.name}`);
      names.add(c.name);
      if (typeof c.image !== 'string' || c.image === '') throw client(`Container.image should not be null or empty (container ${c.name}).`);
    }
    const requires: string[] = input.requiresCompatibilities ?? [];
    const networkMode: string = input.networkMode ?? (requires.includes('FARGATE') ? 'awsvpc' : 'bridge');
    if (!NETWORK_MODES.has(networkMode)) throw client(`Invalid networkMode: ${networkMode}`);
    const cpu = toUnits(input.cpu, 'vcpu', 'cpu');
    const memory = toUnits(input.memory, 'gb', 'memory');
    // Fargate needs awsvpc and task-level cpu and memory (ECS developer guide, "Amazon ECS task definition parameters for Fargate").
    if (requires.includes('FARGATE')) {
      if (networkMode !== 'awsvpc') throw client("Fargate only supports network mode 'awsvpc'.");
      if (cpu === undefined || memory === undefined) throw client('Fargate requires task definition to have cpu and memory set at the task level.');
    }

    const sum = (field: 'cpu' | 'memory') => containers.reduce((n, c) => n + (Number(c[field] ?? (field === 'memory' ? c.memoryReservation : 0)) || 0), 0);
    const placed = this.deps.ecs.defineTaskDefinition(family, {
      cpu: cpu !== undefined ? Number(cpu) : sum('cpu') || undefined,
      memory: memory !== undefined ? Number(memory) : sum('memory') || undefined,
      networkMode: networkMode as TaskDefinition['networkMode'],
      containers: containers.map((c) => ({ name: c.name, essential: c.essential ?? true, image: c.image })),
    });

    const definition = Object.fromEntries(Object.entries(input).filter(([key]) => !NOT_REGISTERED.has(key)));
    const described: Json = {
      ...definition,
      taskDefinitionArn: placed.arn,
      family,
      revision: placed.revision,
      containerDefinitions: containers.map((c) => describeContainer(c, networkMode)),
      networkMode,
      ...(cpu !== undefined ? { cpu } : {}),
      ...(memory !== undefined ? { memory } : {}),
      volumes: input.volumes ?? [],
      status: 'ACTIVE',
      placementConstraints: input.placementConstraints ?? [],
      compatibilities: compatibilities(networkMode, cpu, memory),
      registeredAt: this.deps.now() / 1000,
    };
    this.described.set(placed.arn, described);
    return structuredClone(described);
  }

  /** DescribeTaskDefinition's `taskDefinition` for a family, family:revision or ARN; undefined when ECS would not know it. */
  describe(ref: string): Json | undefined {
    const definition = this.deps.ecs.taskDefinition(ref);
    if (!definition) return undefined;
    const registered = this.described.get(definition.arn);
    if (registered) return structuredClone(registered);
    return {
      taskDefinitionArn: definition.arn,
      family: definition.family,
      revision: definition.revision,
      containerDefinitions: definition.containers.map((c) =>
        describeContainer({ name: c.name, image: c.image, essential: c.essential }, definition.networkMode),
      ),
      networkMode: definition.networkMode,
      cpu: String(definition.cpu),
      memory: String(definition.memory),
      volumes: [],
      status: 'ACTIVE',
      placementConstraints: [],
      compatibilities: compatibilities(definition.networkMode, String(definition.cpu), String(definition.memory)),
    };
  }

  operations(): Record<string, OperationHandler> {
    return {
      RegisterTaskDefinition: (input: Json) => ({ taskDefinition: this.register(input), tags: input.tags ?? [] }),
      DescribeTaskDefinition: (input: Json) => {
        const ref: unknown = input.taskDefinition;
        if (typeof ref !== 'string' || ref === '') throw client('taskDefinition cannot be empty.');
        // A revision number that does not parse names nothing, rather than the latest revision.
        const revision = lastSegment(ref).split(':')[1];
        if (revision !== undefined && !/^\d+$/.test(revision)) throw client('Unable to describe task definition.');
        const taskDefinition = this.describe(ref);
        if (!taskDefinition) throw client('Unable to describe task definition.');
        return { taskDefinition, ...((input.include ?? []).includes('TAGS') ? { tags: [] } : {}) };
      },
    };
  }
}

/** Adds RegisterTaskDefinition and DescribeTaskDefinition to the simulator's 'ecs' service. */
export function installEcsTaskDefinitions(sim: Sim): EcsTaskDefinitionsSim {
  const taskDefinitions = new EcsTaskDefinitionsSim({ ecs: sim.ecs, now: () => sim.clock.now() });
  const ecs = sim.service('ecs');
  if (!ecs) throw new Error('sim: the ecs service must be registered before installEcsTaskDefinitions');
  for (const [op, handler] of Object.entries(taskDefinitions.operations())) {
    if (ecs.operations[op]) throw new Error(`sim: ecs.${op} is already implemented elsewhere`);
    ecs.operations[op] = handler;
  }
  return taskDefinitions;
}
