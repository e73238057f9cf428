/**
 * The audit rule engine: ECS services, task definitions and ELBv2 target
 * groups in (the shapes the AWS APIs return), findings out. Pure: no SDK
 * calls, no I/O, so a local task definition file, a live cluster and a test
 * fixture all get the same answers.
 *
 * Every rule is listed in RULES with the documentation it rests on and the
 * trade-off of its fix: several of these settings trade safety for speed, and
 * an operator must see both sides before changing them.
 */
import type { ContainerDefinition, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { Severity } from '../shared/severity.ts';
import { checkFargateSize, parseCpu, parseMemory } from './fargate.ts';
import type { KeyProblem } from './taskdef-shape.ts';

/** DescribeTargetGroups `TargetGroups[]` (ELBv2 API), the fields the rules read. */
export interface TargetGroup {
  TargetGroupArn?: string;
  TargetGroupName?: string;
  Protocol?: string;
  Port?: number;
  TargetType?: string;
  HealthCheckProtocol?: string;
  HealthCheckPath?: string;
  HealthCheckEnabled?: boolean;
  HealthCheckIntervalSeconds?: number;
  HealthCheckTimeoutSeconds?: number;
  HealthyThresholdCount?: number;
  UnhealthyThresholdCount?: number;
  LoadBalancerArns?: string[];
}

/** DescribeTargetGroupAttributes `Attributes[]`. */
export interface TargetGroupAttribute {
  Key?: string;
  Value?: string;
}

export interface TargetGroupInput {
  targetGroup: TargetGroup;
  attributes: TargetGroupAttribute[];
}

export interface AuditInput {
  /** DescribeServices `services[]`. */
  services?: Service[];
  /** DescribeTaskDefinition `taskDefinition`, or RegisterTaskDefinition input. */
  taskDefinitions: TaskDefinition[];
  targetGroups?: TargetGroupInput[];
  /**
   * Checks a task definition's keys and value kinds against the SDK's model
   * (checkTaskDefinitionKeys from taskdef-model.ts). File input passes it; live input leaves it
   * out, since the SDK's deserializer returns only modelled keys of the right kind, so the audit
   * Lambda does not bundle a model it could never use.
   */
  checkKeys?: (td: TaskDefinition) => KeyProblem[];
}

export type RuleId =
  | 'unknown-key'
  | 'wrong-type'
  | 'fargate-cpu-memory-invalid'
  | 'health-check-command-malformed'
  | 'health-check-needs-shell'
  | 'depends-on-healthy-without-health-check'
  | 'link-to-unknown-container'
  | 'bridge-localhost-sidecar'
  | 'sidecar-without-depends-on'
  | 'localhost-ipv6-ambiguity'
  | 'stop-timeout-long'
  | 'fargate-stop-timeout-over-max'
  | 'image-tag-mutable'
  | 'deployment-no-headroom'
  | 'circuit-breaker-disabled'
  | 'circuit-breaker-no-rollback'
  | 'grace-period-without-health-check'
  | 'grace-period-missing'
  | 'alb-slow-health-check'
  | 'alb-long-deregistration-delay';

export interface RuleDoc {
  id: RuleId;
  title: string;
  severity: Severity;
  appliesTo: 'task definition' | 'container' | 'service' | 'target group';
  /** The AWS (or, where AWS is silent, the upstream) documentation the rule rests on. */
  source: string;
  /** What the fix costs, or when the finding is a false alarm. */
  tradeOff: string;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** An ARN, or `taskDefinition:<family>:<revision>#container:<name>`. */
  resource: string;
  /** The values seen. */
  evidence: string;
  /** What to set, naming the setting. */
  fix: string;
  /** Where in a task definition of the input, so a report can point at the line of a file. */
  location?: { taskDefinition: number; path: string };
}

const ECS_GUIDE = 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide';
const ECS_API = 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference';

export const RULES: readonly RuleDoc[] = Object.freeze([
  {
    id: 'unknown-key',
    title: 'Key that RegisterTaskDefinition does not have (misspelled or misplaced)',
    severity: 'medium',
    appliesTo: 'task definition',
    source: `${ECS_API}/API_RegisterTaskDefinition.html`,
    tradeOff:
      'The AWS CLI (botocore) rejects the file before sending it ("Parameter validation failed: Unknown parameter"); the JavaScript SDK v3 sends the key on, and since ECS has no such field it never takes effect, so a misspelled healthCheck or stopTimeout silently does nothing in tools built on it. Checked against the model of the pinned @aws-sdk/client-ecs: a key that a newer API version added shows up here until the SDK is upgraded.',
  },
  {
    id: 'wrong-type',
    title: 'Value of another kind than RegisterTaskDefinition takes (an object for a list, a string for a number)',
    severity: 'medium',
    appliesTo: 'task definition',
    source: `${ECS_API}/API_RegisterTaskDefinition.html`,
    tradeOff:
      'The AWS CLI rejects the file before sending it ("Invalid type for parameter"); other tools send it and ECS rejects it or reads something else. The fields the audit itself reads are checked when the file is loaded; this covers the rest. A null value is not reported: the CLI rejects it, but the console and the ECS deploy GitHub action drop it.',
  },
  {
    id: 'fargate-cpu-memory-invalid',
    title: 'Task cpu/memory is not a Fargate size',
    severity: 'high',
    appliesTo: 'task definition',
    source: `${ECS_GUIDE}/task-cpu-memory-error.html`,
    tradeOff:
      'RegisterTaskDefinition rejects the task definition, so nothing runs. Fargate bills the whole task size: pick the smallest valid size that fits the containers. 8 and 16 vCPU need Linux platform version 1.4.0 or later; Windows offers 1, 2 and 4 vCPU only.',
  },
  {
    id: 'health-check-command-malformed',
    title: 'Container health check command cannot run as written',
    severity: 'high',
    appliesTo: 'container',
    source: `${ECS_API}/API_HealthCheck.html`,
    tradeOff:
      'None: as written the check fails on every run, ECS marks the container UNHEALTHY and a service replaces the task in a loop while the application is fine.',
  },
  {
    id: 'health-check-needs-shell',
    title: 'Container health check needs a shell or tool the image does not have',
    severity: 'high',
    appliesTo: 'container',
    source: `${ECS_API}/API_HealthCheck.html`,
    tradeOff:
      'The check runs inside the container: CMD-SHELL needs /bin/sh, and curl/wget must exist in the image. Distroless, Chainguard static and ko-built images, and AWS agents built FROM scratch (the ADOT collector, the X-Ray daemon, the Linux CloudWatch agent), recognised by name, have neither, so the task is killed as unhealthy while the app is fine. Dropping the container health check loses the restart of a hung process that the load balancer cannot see; a check built into the app binary keeps it. An image whose name does not reveal its base is not flagged.',
  },
  {
    id: 'depends-on-healthy-without-health-check',
    title: 'dependsOn HEALTHY on a container without a health check',
    severity: 'high',
    appliesTo: 'container',
    source: `${ECS_API}/API_ContainerDependency.html`,
    tradeOff:
      'The HEALTHY condition requires the dependency to have a container health check; without one the dependent container cannot start. Use START when readiness does not matter, at the cost of the app racing its sidecar at start-up.',
  },
  {
    id: 'link-to-unknown-container',
    title: 'links names a container that is not in the task definition',
    severity: 'high',
    appliesTo: 'container',
    source: `${ECS_API}/API_ContainerDefinition.html`,
    tradeOff:
      'A link is "name" or "name:alias", where name is another container of the same task; with no such container the link cannot be made and the name never resolves. Fix the name, or, in awsvpc mode, drop links and use localhost.',
  },
  {
    id: 'bridge-localhost-sidecar',
    title: 'Sidecar reached over localhost in bridge network mode',
    severity: 'high',
    appliesTo: 'container',
    source: `${ECS_GUIDE}/task-networking.html`,
    tradeOff:
      "In bridge mode (the default on EC2 Linux) every container has its own network namespace, so localhost is the container itself, not its sidecar. awsvpc shares one namespace per task (and is AWS's recommended mode) but uses one ENI per task, which limits tasks per instance unless ENI trunking is on.",
  },
  {
    id: 'sidecar-without-depends-on',
    title: 'Container calls a sidecar over localhost without dependsOn',
    severity: 'medium',
    appliesTo: 'container',
    source: `${ECS_API}/API_ContainerDependency.html`,
    tradeOff:
      'Without dependsOn the containers start together, so the first calls can hit a sidecar that is not listening yet, and at shutdown the sidecar can stop before the app has finished in-flight work (ECS reverses dependencies for shutdown). dependsOn HEALTHY delays the app until the sidecar is healthy and needs a health check on the sidecar.',
  },
  {
    id: 'localhost-ipv6-ambiguity',
    title: '"localhost" may resolve to ::1 first',
    severity: 'info',
    appliesTo: 'container',
    source: 'https://nodejs.org/api/dns.html#dnssetdefaultresultorderorder',
    tradeOff:
      'Resolvers may return ::1 before 127.0.0.1 for localhost (Node.js keeps the resolver order by default since v17); a client that tries only the first address gets "connection refused" from a server that listens on IPv4 only. curl and clients with Happy Eyeballs fall back and are unaffected. Use 127.0.0.1 unless the target listens on IPv6 only.',
  },
  {
    id: 'stop-timeout-long',
    title: 'A shell runs as PID 1 and does not pass SIGTERM on: every stop waits for SIGKILL',
    severity: 'medium',
    appliesTo: 'container',
    source: `${ECS_API}/API_ContainerDefinition.html`,
    tradeOff:
      "ECS sends SIGTERM to PID 1 and SIGKILL after stopTimeout (30 s by default). A shell that runs the app as a child does not forward the signal, and as PID 1 it ignores SIGTERM itself, so every task stop, deployment and drain waits the full timeout and the app never shuts down cleanly. `exec` makes the app PID 1; initProcessEnabled stops the task promptly but still does not give the app its SIGTERM. Reported only when the script makes the shell stay (a loop, a background job, a pipeline last), since dash and bash exec the last simple command of a plain list themselves. Containers whose process is PID 1 (no shell wrapper) are not reported: most exit promptly on SIGTERM, and shortening a log router's timeout only risks losing buffered logs.",
  },
  {
    id: 'fargate-stop-timeout-over-max',
    title: 'stopTimeout above the Fargate maximum of 120 s',
    severity: 'medium',
    appliesTo: 'container',
    source: `${ECS_API}/API_ContainerDefinition.html`,
    tradeOff: 'Fargate does not wait longer than 120 s: a shutdown that needs more is cut off by SIGKILL. Make shutdown fit in 120 s, or run the task on EC2.',
  },
  {
    id: 'image-tag-mutable',
    title: 'Image tag that moves (latest, stable, or no tag)',
    severity: 'low',
    appliesTo: 'container',
    source: `${ECS_GUIDE}/deployment-type-ecs.html#deployment-container-image-stability`,
    tradeOff:
      'ECS resolves a tag to a digest once per deployment, so the tasks of one deployment match; but the next deployment, a rollback to this revision, or a standalone RunTask pulls whatever the tag points to then. A digest (image@sha256:...) or a version tag that is never overwritten makes a revision mean one image; it also means updating the task definition to take security fixes.',
  },
  {
    id: 'deployment-no-headroom',
    title: 'minimumHealthyPercent/maximumPercent leave no room to replace a task',
    severity: 'high',
    appliesTo: 'service',
    source: `${ECS_API}/API_DeploymentConfiguration.html`,
    tradeOff:
      'ECS must keep ceil(desiredCount × minimumHealthyPercent) tasks RUNNING and may run floor(desiredCount × maximumPercent); when both equal desiredCount it can neither start a replacement first nor stop a task first, so deployments and instance drains stall. A higher maximumPercent needs spare cluster capacity for the extra tasks; a lower minimumHealthyPercent runs with less capacity while tasks are replaced.',
  },
  {
    id: 'circuit-breaker-disabled',
    title: 'Deployment circuit breaker is off',
    severity: 'medium',
    appliesTo: 'service',
    source: `${ECS_GUIDE}/deployment-circuit-breaker.html`,
    tradeOff:
      'Without the breaker a revision whose tasks never become healthy keeps launching failing tasks indefinitely. The breaker fails a deployment after max(3, min(200, 0.5 × desiredCount)) failed tasks by default, so a flaky but eventually healthy start-up can trip it.',
  },
  {
    id: 'circuit-breaker-no-rollback',
    title: 'Circuit breaker enabled without rollback',
    severity: 'low',
    appliesTo: 'service',
    source: `${ECS_API}/API_DeploymentCircuitBreaker.html`,
    tradeOff:
      'Without rollback a failed deployment only stops launching tasks and leaves the service on the failed revision until someone deploys again. With rollback ECS returns to the last completed deployment on its own, which can hide a broken release from anyone not watching deployment events.',
  },
  {
    id: 'grace-period-without-health-check',
    title: 'healthCheckGracePeriodSeconds set but no health check to delay',
    severity: 'low',
    appliesTo: 'service',
    source: `${ECS_API}/API_CreateService.html`,
    tradeOff:
      'The grace period only suspends Elastic Load Balancing, VPC Lattice and container health checks; with none of them it does nothing, and the slow start it was meant to protect is not protected.',
  },
  {
    id: 'grace-period-missing',
    title: 'Fast load balancer health checks without a grace period',
    severity: 'low',
    appliesTo: 'service',
    source: `${ECS_API}/API_CreateService.html`,
    tradeOff:
      'With tightened target group checks a task that needs longer than UnhealthyThresholdCount × HealthCheckIntervalSeconds to answer is stopped and replaced in a loop. A long grace period also delays replacing a task that is really broken at start-up.',
  },
  {
    id: 'alb-slow-health-check',
    title: 'Target group health checks slow every deployment',
    severity: 'low',
    appliesTo: 'target group',
    source: `${ECS_GUIDE}/load-balancer-healthcheck.html`,
    tradeOff:
      'Only for apps that start and stabilise in under about 10 s (ECS guide). Faster checks also detect failure faster: with UnhealthyThresholdCount 2 and a 5 s interval a target leaves service after about 10 s of failed checks, so a long GC pause or a slow dependency behind the health endpoint can flap targets. Keep HealthCheckTimeoutSeconds below the interval.',
  },
  {
    id: 'alb-long-deregistration-delay',
    title: 'Deregistration delay keeps stopped tasks draining for minutes',
    severity: 'low',
    appliesTo: 'target group',
    source: `${ECS_GUIDE}/load-balancer-connection-draining.html`,
    tradeOff:
      'The delay is how long in-flight requests may still finish. 5 s suits responses under a second; long-lived requests (slow uploads, streaming, WebSockets) are cut off when it is shorter than they last.',
  },
] satisfies RuleDoc[]);

const RULE_BY_ID = new Map<RuleId, RuleDoc>(RULES.map((r) => [r.id, r]));
export const ruleDoc = (id: RuleId): RuleDoc => RULE_BY_ID.get(id)!;

// ---------------------------------------------------------------------------
// Names and links between resources

export function taskDefinitionName(td: TaskDefinition): string {
  const family = td.family ?? familyFromArn(td.taskDefinitionArn)?.family ?? 'unknown';
  const revision = td.revision ?? familyFromArn(td.taskDefinitionArn)?.revision;
  return revision === undefined ? `taskDefinition:${family}` : `taskDefinition:${family}:${revision}`;
}

function familyFromArn(arn: string | undefined): { family: string; revision: number } | undefined {
  const m = arn === undefined ? null : /:task-definition\/([^:/]+):(\d+)$/.exec(arn);
  return m ? { family: m[1]!, revision: Number(m[2]) } : undefined;
}

const containerName = (td: TaskDefinition, c: ContainerDefinition): string => `${taskDefinitionName(td)}#container:${c.name ?? '?'}`;

export const serviceName = (s: Service): string => s.serviceArn ?? `service:${s.serviceName ?? 'unknown'}`;

export const targetGroupName = (tg: TargetGroup): string => tg.TargetGroupArn ?? `targetGroup:${tg.TargetGroupName ?? 'unknown'}`;

/** The task definition a service runs, matched by ARN, or by family:revision when the input came from files. */
function taskDefinitionOf(service: Service, tds: readonly TaskDefinition[]): number {
  const ref = service.taskDefinition;
  if (!ref) return -1;
  const exact = tds.findIndex((td) => td.taskDefinitionArn === ref);
  if (exact >= 0) return exact;
  const parsed = familyFromArn(ref);
  if (!parsed) return -1;
  return tds.findIndex((td) => td.family === parsed.family && td.revision === parsed.revision);
}

const FARGATE_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);
const runsOnFargate = (s: Service): boolean =>
  s.launchType === 'FARGATE' || (s.capacityProviderStrategy ?? []).some((p) => FARGATE_PROVIDERS.has(p.capacityProvider ?? ''));

const isWindows = (td: TaskDefinition): boolean => (td.runtimePlatform?.operatingSystemFamily ?? '').startsWith('WINDOWS');

// ---------------------------------------------------------------------------
// What a container says about hosts and ports

interface HostReference {
  host: string;
  port?: number;
  /** The string it was found in, shortened for evidence. */
  text: string;
  path: string;
}

// A loopback host, optionally with a port; not part of a longer name such as localhost.localdomain.
const LOOPBACK = /(?<![\w.-])(localhost|127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(?![\w-]|\.[A-Za-z0-9])/gi;

const clip = (s: string, max = 120): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function hostReferences(c: ContainerDefinition, index: number): HostReference[] {
  const base = `containerDefinitions[${index}]`;
  const sources: Array<{ text: string; path: string }> = [];
  const command = c.healthCheck?.command;
  if (command) sources.push({ text: command.slice(1).join(' '), path: `${base}.healthCheck.command` });
  (c.environment ?? []).forEach((kv, k) => {
    if (typeof kv.value === 'string') sources.push({ text: kv.value, path: `${base}.environment[${k}].value` });
  });
  (c.command ?? []).forEach((arg, k) => {
    sources.push({ text: arg, path: `${base}.command[${k}]` });
  });
  (c.entryPoint ?? []).forEach((arg, k) => {
    sources.push({ text: arg, path: `${base}.entryPoint[${k}]` });
  });
  const refs: HostReference[] = [];
  for (const { text, path } of sources) {
    for (const m of text.matchAll(LOOPBACK)) {
      refs.push({ host: m[1]!.toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]), text: clip(text), path });
    }
  }
  return refs;
}

const containerPorts = (c: ContainerDefinition): Set<number> =>
  new Set((c.portMappings ?? []).map((p) => p.containerPort).filter((p): p is number => typeof p === 'number'));

/**
 * Ports that well-known sidecars listen on by default, whether or not the task definition maps
 * them (in awsvpc mode a sidecar needs no port mapping to be reached over localhost), each from
 * the vendor's documentation: Datadog Agent DogStatsD 8125 and APM 8126; X-Ray daemon UDP 2000;
 * ADOT collector OTLP 4317/4318 and its X-Ray receiver 2000; CloudWatch agent EMF 25888 and
 * StatsD 8125; Fluent Bit/Fluentd forward 24224 (FireLens); Envoy admin 9901 (App Mesh).
 */
const SIDECAR_PORTS: ReadonlyArray<[RegExp, readonly number[]]> = [
  [/(^|\/)(datadog|datadoghq)\/agent$/, [8125, 8126]],
  [/(^|\/)aws-xray-daemon$/, [2000]],
  [/(^|\/)(aws-otel-collector|opentelemetry-collector(-contrib)?)$/, [4317, 4318, 2000]],
  [/(^|\/)cloudwatch-agent$/, [25888, 8125]],
  [/(^|\/)(aws-for-fluent-bit|fluent-bit|fluentd)$/, [24224]],
  [/(^|\/)(aws-appmesh-envoy|envoy)$/, [9901]],
];

const imageRepository = (image: string | undefined): string => {
  const noDigest = (image ?? '').split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return (colon >= 0 ? noDigest.slice(0, colon) : noDigest).toLowerCase();
};

/** The ports a container listens on: its mapped container ports, and a known sidecar's defaults. */
function listeningPorts(c: ContainerDefinition): Set<number> {
  const ports = containerPorts(c);
  const repo = imageRepository(c.image);
  for (const [pattern, known] of SIDECAR_PORTS) if (pattern.test(repo)) for (const p of known) ports.add(p);
  return ports;
}

/** For each reference to another container's port over loopback: who is called, and where. */
function sidecarCalls(td: TaskDefinition): Array<{ from: number; to: number; ref: HostReference }> {
  const containers = td.containerDefinitions ?? [];
  const ports = containers.map(listeningPorts);
  const calls: Array<{ from: number; to: number; ref: HostReference }> = [];
  containers.forEach((c, from) => {
    for (const ref of hostReferences(c, from)) {
      if (ref.port === undefined || ports[from]!.has(ref.port)) continue;
      const to = ports.findIndex((set, j) => j !== from && set.has(ref.port!));
      if (to >= 0) calls.push({ from, to, ref });
    }
  });
  return calls;
}

// ---------------------------------------------------------------------------
// Images that have no shell

/**
 * Why an image has no /bin/sh (and no curl or wget), judged from its name
 * only, or undefined when the name does not tell.
 */
export function shellLessImage(image: string | undefined, windows = false): string | undefined {
  if (!image) return undefined;
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  const repo = (colon >= 0 ? noDigest.slice(0, colon) : noDigest).toLowerCase();
  const tag = colon >= 0 ? noDigest.slice(colon + 1).toLowerCase() : '';
  // The :debug variants of distroless add a busybox shell (GoogleContainerTools/distroless README).
  if (/(^|\/)distroless\//.test(repo) && !tag.includes('debug')) return 'a distroless image (no shell, no curl or wget)';
  if (/(^|\/)chainguard\/static$/.test(repo)) return 'a Chainguard static image (no shell, no curl or wget)';
  // ko publishes ${KO_DOCKER_REPO}/<package>-<md5 of the import path> by default (ko.build reference, "ko build"),
  // or ko.local/... for local builds, on a static base image.
  if (repo.startsWith('ko.local/') || /-[0-9a-f]{32}$/.test(repo)) return 'a ko-built image (static base: no shell, no curl or wget)';
  // The ADOT collector's final stage is FROM scratch with one binary and /healthcheck (github.com/aws-observability/aws-otel-collector cmd/awscollector/Dockerfile at ed0b1d59).
  if (/(^|\/)aws-otel-collector$/.test(repo)) return 'the ADOT collector, built FROM scratch (no shell; it ships /healthcheck)';
  // github.com/aws/aws-xray-daemon Dockerfile at 8c295a5b is FROM scratch; its Dockerfile.amazonlinux variant is not, so a tag naming it is left alone.
  if (/(^|\/)aws-xray-daemon$/.test(repo) && !/amazonlinux|al2/.test(tag)) return 'the X-Ray daemon, built FROM scratch (no shell)';
  // github.com/aws/amazon-cloudwatch-agent amazon-cloudwatch-container-insights/cloudwatch-agent-dockerfile at ab55b8da: the Linux images end FROM scratch; the same tag's Windows image has cmd.
  if (/(^|\/)cloudwatch-agent$/.test(repo) && !windows) return 'the CloudWatch agent, built FROM scratch on Linux (no shell)';
  return undefined;
}

const SHELL_TOOLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'curl', 'wget', 'nc']);
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

// ---------------------------------------------------------------------------
// Rules over task definitions

interface TaskContext {
  td: TaskDefinition;
  checkKeys: AuditInput['checkKeys'];
  index: number;
  /** FARGATE in requiresCompatibilities, or a service runs it on Fargate. */
  fargate: boolean;
  networkMode: string;
}

type TaskCheck = (ctx: TaskContext, emit: (f: Omit<Finding, 'severity'>) => void) => void;

const checkFargateCpuMemory: TaskCheck = ({ td, index, fargate }, emit) => {
  if (!fargate) return;
  const where = (field: 'cpu' | 'memory') => ({ taskDefinition: index, path: field });
  const resource = taskDefinitionName(td);
  const context = td.requiresCompatibilities?.includes('FARGATE') ? 'requiresCompatibilities includes FARGATE' : 'a service runs it on Fargate';
  for (const field of ['cpu', 'memory'] as const) {
    if (td[field] === undefined || td[field] === '') {
      emit({
        rule: 'fargate-cpu-memory-invalid',
        resource,
        evidence: `task-level ${field} is not set (${context}; Fargate requires task-level cpu and memory)`,
        fix: `set the task-level ${field}, e.g. cpu "256" with memory "512"`,
        location: where(field),
      });
      return;
    }
  }
  const cpu = parseCpu(String(td.cpu));
  const memory = parseMemory(String(td.memory));
  if (!cpu.ok || !memory.ok) {
    const bad = !cpu.ok ? cpu : (memory as { ok: false; reason: string });
    emit({
      rule: 'fargate-cpu-memory-invalid',
      resource,
      evidence: bad.reason,
      fix: !cpu.ok ? 'write cpu as CPU units ("1024") or vCPUs ("1 vCPU")' : 'write memory as MiB ("2048") or GB ("2 GB")',
      location: where(!cpu.ok ? 'cpu' : 'memory'),
    });
    return;
  }
  const problem = checkFargateSize(cpu.value, memory.value, isWindows(td));
  if (problem) {
    emit({
      rule: 'fargate-cpu-memory-invalid',
      resource,
      evidence: `cpu "${td.cpu}", memory "${td.memory}" (${context}): ${problem.reason}`,
      fix: problem.fix,
      location: where(problem.field),
    });
  }
};

const checkHealthCheckCommand: TaskCheck = ({ td, index }, emit) => {
  (td.containerDefinitions ?? []).forEach((c, i) => {
    const command = c.healthCheck?.command;
    if (!command) return;
    const location = { taskDefinition: index, path: `containerDefinitions[${i}].healthCheck.command` };
    const shown = JSON.stringify(command);
    const [kind, ...args] = command;
    if (kind !== 'CMD' && kind !== 'CMD-SHELL') {
      emit({
        rule: 'health-check-command-malformed',
        resource: containerName(td, c),
        // Docker's getProbe() (moby daemon/health.go) runs only CMD and CMD-SHELL; any other first word logs a warning and no probe runs.
        evidence: `healthCheck.command ${shown} does not start with "CMD" or "CMD-SHELL", so Docker never runs it and the container's health stays UNKNOWN`,
        fix: shellLessImage(c.image, isWindows(td))
          ? `start healthCheck.command with "CMD", ${JSON.stringify(['CMD', ...command])}: the image has no shell, so not "CMD-SHELL"`
          : `start healthCheck.command with "CMD", ${JSON.stringify(['CMD', ...command])}, or, if the image has /bin/sh (check: docker run --rm --entrypoint /bin/sh IMAGE -c true), "CMD-SHELL" with one string: ["CMD-SHELL", ${JSON.stringify(command.join(' '))}]`,
        location,
      });
    } else if (args.length === 0 || args.every((a) => a.trim() === '')) {
      emit({
        rule: 'health-check-command-malformed',
        resource: containerName(td, c),
        evidence: `healthCheck.command ${shown} has nothing to run after "${kind}"`,
        fix: `add the command after "${kind}", or remove healthCheck`,
        location,
      });
    } else if (kind === 'CMD' && args.length === 1 && /\s/.test(args[0]!.trim())) {
      // Docker execs the first argument as a file name, spaces included.
      emit({
        rule: 'health-check-command-malformed',
        resource: containerName(td, c),
        evidence: `healthCheck.command ${shown}: with "CMD" the string is one program name, so Docker looks for an executable literally named ${JSON.stringify(args[0])}`,
        fix: `split the arguments, ${JSON.stringify(['CMD', ...args[0]!.trim().split(/\s+/)])}${shellLessImage(c.image, isWindows(td)) ? ' (the image has no shell, so not "CMD-SHELL")' : `, or, if the image has /bin/sh (check: docker run --rm --entrypoint /bin/sh IMAGE -c true), run it through the shell: ["CMD-SHELL", ${JSON.stringify(args[0])}]`}`,
        location,
      });
    }
  });
};

const checkHealthCheckShell: TaskCheck = ({ td, index }, emit) => {
  (td.containerDefinitions ?? []).forEach((c, i) => {
    const command = c.healthCheck?.command;
    if (!command || command.length < 2) return;
    const why = shellLessImage(c.image, isWindows(td));
    if (!why) return;
    const [kind, first] = command;
    const program =
      kind === 'CMD-SHELL'
        ? '/bin/sh'
        : kind === 'CMD' && SHELL_TOOLS.has(basename(first!.trim().split(/\s+/)[0]!))
          ? first!.trim().split(/\s+/)[0]!
          : undefined;
    if (!program) return;
    emit({
      rule: 'health-check-needs-shell',
      resource: containerName(td, c),
      evidence: `image ${c.image} is ${why}, but healthCheck.command ${JSON.stringify(command)} needs ${program}`,
      fix: 'make healthCheck.command exec a binary that is in the image (e.g. ["CMD", "/app", "healthcheck"] with a health sub-command in the app), or remove healthCheck and rely on the load balancer health check',
      location: { taskDefinition: index, path: `containerDefinitions[${i}].healthCheck.command` },
    });
  });
};

const checkDependsOnHealthy: TaskCheck = ({ td, index }, emit) => {
  const containers = td.containerDefinitions ?? [];
  containers.forEach((c, i) => {
    (c.dependsOn ?? []).forEach((dep, j) => {
      if (dep.condition !== 'HEALTHY') return;
      const target = containers.find((other) => other.name === dep.containerName);
      if (!target || target.healthCheck?.command) return;
      emit({
        rule: 'depends-on-healthy-without-health-check',
        resource: containerName(td, c),
        evidence: `dependsOn {containerName: "${dep.containerName}", condition: "HEALTHY"}, but container "${dep.containerName}" has no healthCheck`,
        fix: `add a healthCheck to container "${dep.containerName}", or change the condition to "START"`,
        location: { taskDefinition: index, path: `containerDefinitions[${i}].dependsOn[${j}]` },
      });
    });
  });
};

const checkLinks: TaskCheck = ({ td, index }, emit) => {
  const containers = td.containerDefinitions ?? [];
  const names = new Set(containers.map((c) => c.name));
  containers.forEach((c, i) => {
    (c.links ?? []).forEach((link, j) => {
      const target = link.split(':')[0]!.trim();
      if (names.has(target)) return;
      const alike = containers.find((other) => other.name && other.name !== c.name && (other.name.endsWith(target) || target.endsWith(other.name)))?.name;
      emit({
        rule: 'link-to-unknown-container',
        resource: containerName(td, c),
        evidence: `links "${link}", but no container of ${taskDefinitionName(td)} is named "${target}" (it has ${[...names].map((n) => `"${n}"`).join(', ')})`,
        fix: alike
          ? `link "${alike}${link.includes(':') ? `:${link.split(':')[1]}` : ''}", or rename the container`
          : `link the name of a container of this task, or remove the link`,
        location: { taskDefinition: index, path: `containerDefinitions[${i}].links[${j}]` },
      });
    });
  });
};

const checkBridgeLocalhost: TaskCheck = ({ td, index, networkMode }, emit) => {
  if (networkMode !== 'bridge' || isWindows(td)) return;
  const containers = td.containerDefinitions ?? [];
  for (const { from, to, ref } of sidecarCalls(td)) {
    const target = containers[to]!;
    emit({
      rule: 'bridge-localhost-sidecar',
      resource: containerName(td, containers[from]!),
      evidence: `networkMode ${td.networkMode ?? 'not set (bridge)'}; "${ref.text}" targets ${ref.host}:${ref.port}, which is container "${target.name}"'s containerPort, but in bridge mode localhost is the calling container itself`,
      fix: `set networkMode to "awsvpc" so the task's containers share localhost, or reach "${target.name}" through Service Connect or a service name instead of ${ref.host}`,
      location: { taskDefinition: index, path: ref.path },
    });
  }
};

const checkSidecarDependsOn: TaskCheck = ({ td, index, networkMode }, emit) => {
  if (networkMode !== 'awsvpc' && networkMode !== 'host') return;
  const containers = td.containerDefinitions ?? [];
  const reported = new Set<string>();
  for (const { from, to, ref } of sidecarCalls(td)) {
    const caller = containers[from]!;
    const target = containers[to]!;
    if ((caller.dependsOn ?? []).some((d) => d.containerName === target.name)) continue;
    const key = `${from}->${to}`;
    if (reported.has(key)) continue;
    reported.add(key);
    emit({
      rule: 'sidecar-without-depends-on',
      resource: containerName(td, caller),
      evidence: `"${ref.text}" calls container "${target.name}" on ${ref.host}:${ref.port}, but container "${caller.name}" has no dependsOn on "${target.name}"`,
      fix: `add dependsOn [{"containerName": "${target.name}", "condition": "${target.healthCheck ? 'HEALTHY' : 'START'}"}] to container "${caller.name}"${target.healthCheck ? '' : ` (HEALTHY once "${target.name}" has a healthCheck)`}`,
      location: { taskDefinition: index, path: `containerDefinitions[${from}]` },
    });
  }
};

// Only sidecar endpoints: a container's own health check talks to its own server, and curl and
// most other probes try the next address; in bridge mode bridge-localhost-sidecar says more.
const checkLocalhostIpv6: TaskCheck = ({ td, index, networkMode }, emit) => {
  if (networkMode === 'bridge') return;
  const calls = sidecarCalls(td);
  (td.containerDefinitions ?? []).forEach((c, i) => {
    const refs = calls.filter((call) => call.from === i && call.ref.host === 'localhost' && !call.ref.path.includes('.healthCheck.')).map((call) => call.ref);
    if (refs.length === 0) return;
    const texts = [...new Set(refs.map((r) => `"${r.text}"`))];
    emit({
      rule: 'localhost-ipv6-ambiguity',
      resource: containerName(td, c),
      evidence: `uses localhost in ${texts.slice(0, 3).join(', ')}${texts.length > 3 ? ` and ${texts.length - 3} more` : ''}`,
      fix: 'write 127.0.0.1 instead of localhost in sidecar endpoints (or make the sidecar listen on both IPv4 and IPv6)',
      location: { taskDefinition: index, path: refs[0]!.path },
    });
  });
};

// The default stop timeout: StopTask sends SIGTERM, then SIGKILL after 30 s unless
// stopTimeout or the agent's ECS_CONTAINER_STOP_TIMEOUT says otherwise (ContainerDefinition.stopTimeout, ECS API reference).
const DEFAULT_STOP_TIMEOUT = 30;
// ContainerDefinition.stopTimeout: "For tasks that use the Fargate launch type, the max stop timeout value is 120 seconds".
const FARGATE_MAX_STOP_TIMEOUT = 120;

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);

/** The script of a shell-form command (`sh -c "..."`), across entryPoint and command, which Docker joins. */
function shellScript(c: ContainerDefinition, i: number): { script: string; path: string } | undefined {
  const argv = [
    ...(c.entryPoint ?? []).map((a, k) => ({ a, path: `containerDefinitions[${i}].entryPoint[${k}]` })),
    ...(c.command ?? []).map((a, k) => ({ a, path: `containerDefinitions[${i}].command[${k}]` })),
  ];
  const at = argv.findIndex(({ a }, k) => SHELLS.has(basename(a.trim())) && /^-[a-z]*c[a-z]*$/.test(argv[k + 1]?.a ?? ''));
  const script = at >= 0 ? argv[at + 2] : undefined;
  return script ? { script: script.a, path: script.path } : undefined;
}

/**
 * Why the shell has to stay PID 1 with the app as its child, or undefined when it may not (or we
 * cannot tell). dash, and bash since 5.1, exec the last simple command of a `-c` string
 * themselves, even after `;` or `&&`, so a plain list of commands is no evidence. A loop, a
 * background job or a last command that is a pipeline is: the shell must stay to run or wait for it.
 */
function shellKeepsPid1(script: string): string | undefined {
  const body = script.trim();
  if (/\btrap\b/.test(body)) return undefined;
  const BACKGROUND = /(?<![&>|])&(?![&>])/;
  const items = body
    .split(/\n|;|&&|\|\||(?<![&>|])&(?![&>])/)
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^(do|done|then|fi|else|esac)$/.test(part));
  const last = items.at(-1) ?? '';
  if (/(^|[;&|\s])(while|until|for)\s/.test(body)) return 'a loop that the shell itself runs';
  if (BACKGROUND.test(body)) return 'a background job';
  if (/^exec\s/.test(last)) return undefined;
  if (/(?<!\|)\|(?!\|)/.test(last)) return `the last command (\`${clip(last, 60)}\`) is a pipeline, which the shell waits for`;
  return undefined;
}

const checkStopTimeout: TaskCheck = ({ td, index }, emit) => {
  (td.containerDefinitions ?? []).forEach((c, i) => {
    // With an init process as PID 1 the signal reaches the shell, which then exits, and the task stops promptly.
    if (c.linuxParameters?.initProcessEnabled) return;
    const shell = shellScript(c, i);
    const why = shell && shellKeepsPid1(shell.script);
    if (!shell || !why) return;
    const st = c.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
    emit({
      rule: 'stop-timeout-long',
      resource: containerName(td, c),
      evidence: `the container runs "${clip(shell.script, 100)}" through a shell (${why}): the shell is PID 1, ignores SIGTERM and does not pass it to the app, so each stop waits ${st} s${c.stopTimeout === undefined ? ' (the default stopTimeout)' : ''} for SIGKILL`,
      fix: 'start the long-running last command of the script with `exec` so that it becomes PID 1 and receives SIGTERM (or move the set-up into the image and run the app in exec form); linuxParameters.initProcessEnabled true also ends the wait, but the app is still killed rather than stopped cleanly',
      location: { taskDefinition: index, path: shell.path },
    });
  });
};

const checkFargateStopTimeout: TaskCheck = ({ td, index, fargate }, emit) => {
  if (!fargate) return;
  (td.containerDefinitions ?? []).forEach((c, i) => {
    if (c.stopTimeout === undefined || c.stopTimeout <= FARGATE_MAX_STOP_TIMEOUT) return;
    emit({
      rule: 'fargate-stop-timeout-over-max',
      resource: containerName(td, c),
      evidence: `stopTimeout ${c.stopTimeout} s on Fargate, where the maximum is ${FARGATE_MAX_STOP_TIMEOUT} s`,
      fix: `set stopTimeout to ${FARGATE_MAX_STOP_TIMEOUT} or less and make shutdown finish within it`,
      location: { taskDefinition: index, path: `containerDefinitions[${i}].stopTimeout` },
    });
  });
};

const checkKeys: TaskCheck = ({ td, index, checkKeys }, emit) => {
  if (!checkKeys) return;
  const containers = td.containerDefinitions ?? [];
  for (const p of checkKeys(td)) {
    const inContainer = /^containerDefinitions\[(\d+)\]/.exec(p.path);
    const c = inContainer ? containers[Number(inContainer[1])] : undefined;
    const resource = c ? containerName(td, c) : taskDefinitionName(td);
    const location = { taskDefinition: index, path: p.path };
    if (p.kind === 'unknown') {
      emit({
        rule: 'unknown-key',
        resource,
        evidence: `"${p.key}" at ${p.path} is not a field of RegisterTaskDefinition${p.suggestion ? ` (the model spells it "${p.suggestion}")` : ''}: the AWS CLI rejects the file, and where a tool passes it on, ECS has no such field to apply`,
        fix: p.suggestion
          ? `rename "${p.key}" to "${p.suggestion}"`
          : `remove "${p.key}", or move it to where the API expects it (see ${ECS_API}/API_RegisterTaskDefinition.html)`,
        location,
      });
    } else {
      emit({
        rule: 'wrong-type',
        resource,
        evidence: `${p.path} is ${p.got}, but RegisterTaskDefinition takes ${p.expected}: the AWS CLI rejects the file`,
        fix: `write ${p.path} as ${p.expected}${p.expected === 'a list' && p.got === 'an object' ? ' (wrap the object in [ ])' : ''}`,
        location,
      });
    }
  }
};

// Tags that registries move on purpose; "latest" is also what Docker pulls when there is no tag.
const MOVING_TAG = /^(latest|stable|mainline|edge|nightly)$|^latest-|-latest$/;

/** The tag of an image reference, '' when it has none, undefined when it is pinned by digest. */
export function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon >= 0 ? image.slice(colon + 1) : '';
}

const checkImageTag: TaskCheck = ({ td, index }, emit) => {
  (td.containerDefinitions ?? []).forEach((c, i) => {
    const image = c.image?.trim();
    // A template placeholder ("<image>", "{{image}}", "${IMAGE}") is filled in by a pipeline we cannot see.
    if (!image || /[<>{}$\s]/.test(image)) return;
    const tag = imageTag(image);
    if (tag === undefined || (tag !== '' && !MOVING_TAG.test(tag.toLowerCase()))) return;
    emit({
      rule: 'image-tag-mutable',
      resource: containerName(td, c),
      evidence:
        tag === '' ? `image "${image}" has no tag, so every pull takes whatever :latest is then` : `image "${image}": the tag "${tag}" is moved to new builds`,
      fix: `pin the image to a version tag that is never overwritten, or to its digest (${image.replace(/:[^:/]*$/, '')}@sha256:...), and update it on purpose`,
      location: { taskDefinition: index, path: `containerDefinitions[${i}].image` },
    });
  });
};

const TASK_CHECKS: readonly TaskCheck[] = [
  checkKeys,
  checkFargateCpuMemory,
  checkHealthCheckCommand,
  checkHealthCheckShell,
  checkDependsOnHealthy,
  checkLinks,
  checkBridgeLocalhost,
  checkSidecarDependsOn,
  checkLocalhostIpv6,
  checkStopTimeout,
  checkFargateStopTimeout,
  checkImageTag,
];

// ---------------------------------------------------------------------------
// Rules over services and target groups

interface ServiceContext {
  service: Service;
  td: TaskDefinition | undefined;
  targetGroups: TargetGroup[];
}

type ServiceCheck = (ctx: ServiceContext, emit: (f: Omit<Finding, 'severity'>) => void) => void;

const controllerOf = (s: Service): string => s.deploymentController?.type ?? 'ECS';

const checkHeadroom: ServiceCheck = ({ service }, emit) => {
  // A DAEMON service's desiredCount follows the instance count; this arithmetic does not describe it.
  if (service.schedulingStrategy === 'DAEMON') return;
  // With blue/green or external deployments on Fargate, the percentages are not used (DeploymentConfiguration).
  if (controllerOf(service) !== 'ECS' && runsOnFargate(service)) return;
  const desired = service.desiredCount ?? 0;
  if (desired <= 0) return;
  const minPct = service.deploymentConfiguration?.minimumHealthyPercent ?? 100;
  const maxPct = service.deploymentConfiguration?.maximumPercent ?? 200;
  // Rounding as documented: the minimum rounds up, the maximum rounds down.
  const mustRun = Math.ceil((desired * minPct) / 100);
  const mayRun = Math.floor((desired * maxPct) / 100);
  if (mayRun > desired || mustRun < desired) return;
  const neededMax = Math.ceil(((desired + 1) * 100) / desired);
  const allowedMin = Math.floor(((desired - 1) * 100) / desired);
  emit({
    rule: 'deployment-no-headroom',
    resource: serviceName(service),
    evidence: `desiredCount ${desired}, minimumHealthyPercent ${minPct} (at least ${mustRun} task${mustRun === 1 ? '' : 's'} must stay RUNNING), maximumPercent ${maxPct} (at most ${mayRun} may run): no task can be started first or stopped first, so ${controllerOf(service) === 'ECS' ? 'deployments and instance drains' : 'instance drains'} cannot progress`,
    fix: `set deploymentConfiguration.maximumPercent to ${neededMax} or more (start replacements first), or minimumHealthyPercent to ${allowedMin} or less (stop tasks first)`,
  });
};

const checkCircuitBreaker: ServiceCheck = ({ service }, emit) => {
  if (controllerOf(service) !== 'ECS') return;
  const cb = service.deploymentConfiguration?.deploymentCircuitBreaker;
  if (!cb?.enable) {
    emit({
      rule: 'circuit-breaker-disabled',
      resource: serviceName(service),
      evidence: cb ? 'deploymentConfiguration.deploymentCircuitBreaker.enable is false' : 'deploymentConfiguration.deploymentCircuitBreaker is not set',
      fix: 'set deploymentConfiguration.deploymentCircuitBreaker to {"enable": true, "rollback": true}',
    });
  } else if (!cb.rollback) {
    emit({
      rule: 'circuit-breaker-no-rollback',
      resource: serviceName(service),
      evidence: 'deploymentConfiguration.deploymentCircuitBreaker is {"enable": true, "rollback": false}',
      fix: 'set deploymentConfiguration.deploymentCircuitBreaker.rollback to true',
    });
  }
};

const checkGracePeriodUnused: ServiceCheck = ({ service, td }, emit) => {
  const grace = service.healthCheckGracePeriodSeconds ?? 0;
  if (grace <= 0 || !td) return;
  if ((service.loadBalancers ?? []).length > 0) return;
  if ((service.deployments ?? []).some((d) => (d.vpcLatticeConfigurations ?? []).length > 0)) return;
  if ((td.containerDefinitions ?? []).some((c) => c.healthCheck?.command)) return;
  emit({
    rule: 'grace-period-without-health-check',
    resource: serviceName(service),
    evidence: `healthCheckGracePeriodSeconds ${grace}, but the service has no loadBalancers, no VPC Lattice configuration, and ${taskDefinitionName(td)} has no container healthCheck`,
    fix: 'remove healthCheckGracePeriodSeconds, or, if it was meant to protect a slow start, add a container healthCheck (with startPeriod) or a load balancer',
  });
};

const unhealthyWindow = (tg: TargetGroup): number => (tg.UnhealthyThresholdCount ?? 2) * (tg.HealthCheckIntervalSeconds ?? 30);
// Below this a start-up hiccup of a typical JVM or Node.js app already gets a task replaced.
const FAST_UNHEALTHY_WINDOW = 30;

const checkGracePeriodMissing: ServiceCheck = ({ service, targetGroups }, emit) => {
  if ((service.healthCheckGracePeriodSeconds ?? 0) > 0) return;
  const fast = targetGroups.filter((tg) => tg.TargetType !== 'lambda' && unhealthyWindow(tg) <= FAST_UNHEALTHY_WINDOW);
  if (fast.length === 0) return;
  const tg = fast[0]!;
  emit({
    rule: 'grace-period-missing',
    resource: serviceName(service),
    evidence: `healthCheckGracePeriodSeconds ${service.healthCheckGracePeriodSeconds ?? 'not set (0)'}, and target group ${tg.TargetGroupName ?? targetGroupName(tg)} marks a target unhealthy after UnhealthyThresholdCount ${tg.UnhealthyThresholdCount ?? 2} × HealthCheckIntervalSeconds ${tg.HealthCheckIntervalSeconds ?? 30} = ${unhealthyWindow(tg)} s of failed checks from the task's first second`,
    fix: "set healthCheckGracePeriodSeconds a little above the app's start-up time",
  });
};

const SERVICE_CHECKS: readonly ServiceCheck[] = [checkHeadroom, checkCircuitBreaker, checkGracePeriodUnused, checkGracePeriodMissing];

// ECS developer guide, "Optimize load balancer health check parameters": defaults 30 s × 5, suggested 5 s × 2.
const MAX_FAST_INTERVAL = 10;
const MAX_RECOVERY_SECONDS = 30;
// ECS developer guide, "Optimize load balancer connection draining parameters": default 300 s.
const DEFAULT_DEREGISTRATION_DELAY = 300;
const MAX_DEREGISTRATION_DELAY = 30;

function checkTargetGroup({ targetGroup: tg, attributes }: TargetGroupInput, emit: (f: Omit<Finding, 'severity'>) => void): void {
  // Lambda targets have no deregistration delay and other health check defaults; ALB-type targets are not ECS tasks.
  if (tg.TargetType === 'lambda' || tg.TargetType === 'alb') return;
  const interval = tg.HealthCheckIntervalSeconds ?? 30;
  const healthy = tg.HealthyThresholdCount ?? 5;
  if (interval > MAX_FAST_INTERVAL || interval * healthy > MAX_RECOVERY_SECONDS) {
    emit({
      rule: 'alb-slow-health-check',
      resource: targetGroupName(tg),
      evidence: `HealthCheckIntervalSeconds ${interval}, HealthyThresholdCount ${healthy}: a new task can wait ${interval} s for its first check, and a target that failed needs ${healthy} × ${interval} s = ${healthy * interval} s to return to service`,
      fix: 'set HealthCheckIntervalSeconds to 5 and HealthyThresholdCount to 2 (HealthCheckTimeoutSeconds below the interval), if the app starts and stabilises in under 10 s',
    });
  }
  const attr = attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds');
  const delay = attr?.Value === undefined ? DEFAULT_DEREGISTRATION_DELAY : Number(attr.Value);
  if (Number.isFinite(delay) && delay > MAX_DEREGISTRATION_DELAY) {
    emit({
      rule: 'alb-long-deregistration-delay',
      resource: targetGroupName(tg),
      evidence: `deregistration_delay.timeout_seconds ${delay}${attr?.Value === undefined ? ' (not in the attributes: the default)' : ''}: every stopped task keeps draining for up to ${delay} s`,
      fix: 'set the target group attribute deregistration_delay.timeout_seconds a little above your longest request (5 for responses under a second)',
    });
  }
}

// ---------------------------------------------------------------------------

/** Runs every rule; findings come in RULES order, then input order. */
export function audit(input: AuditInput): Finding[] {
  const tds = input.taskDefinitions;
  const services = input.services ?? [];
  const tgs = input.targetGroups ?? [];
  const tgByArn = new Map(tgs.map((t) => [t.targetGroup.TargetGroupArn, t.targetGroup]));
  const fargateByService = new Set<number>();
  const serviceContexts: ServiceContext[] = services.map((service) => {
    const i = taskDefinitionOf(service, tds);
    if (i >= 0 && runsOnFargate(service)) fargateByService.add(i);
    const targetGroups = (service.loadBalancers ?? [])
      .map((lb) => (lb.targetGroupArn ? tgByArn.get(lb.targetGroupArn) : undefined))
      .filter((tg): tg is TargetGroup => tg !== undefined);
    return { service, td: i >= 0 ? tds[i] : undefined, targetGroups };
  });

  const raw: Array<Omit<Finding, 'severity'>> = [];
  const emit = (f: Omit<Finding, 'severity'>) => void raw.push(f);
  tds.forEach((td, index) => {
    const fargate = (td.requiresCompatibilities ?? []).includes('FARGATE') || fargateByService.has(index);
    // Fargate requires awsvpc; on EC2 Linux an unset networkMode means bridge (TaskDefinition.networkMode).
    const networkMode = td.networkMode ?? (fargate ? 'awsvpc' : 'bridge');
    const ctx: TaskContext = { td, index, fargate, networkMode, checkKeys: input.checkKeys };
    for (const check of TASK_CHECKS) check(ctx, emit);
  });
  for (const ctx of serviceContexts) for (const check of SERVICE_CHECKS) check(ctx, emit);
  for (const tg of tgs) checkTargetGroup(tg, emit);

  const order = new Map(RULES.map((r, i) => [r.id, i]));
  return raw
    .map((f, seq) => ({ f: { ...f, severity: ruleDoc(f.rule).severity }, seq }))
    .sort((a, b) => order.get(a.f.rule)! - order.get(b.f.rule)! || a.seq - b.seq)
    .map(({ f }) => f);
}
