/**
 * A Terraform plan as audit input: the JSON of `terraform show -json
 * <planfile>`, its aws_ecs_task_definition, aws_ecs_service and
 * aws_lb_target_group resources (root and child modules) in the shapes the
 * live path gives the rules.
 *
 * The planned values hold what is known before apply; an ARN that only
 * exists after apply (a new task definition or target group) is not there,
 * so a service is linked to them through the plan's configuration, whose
 * expressions list the resources they reference. Resources are named by
 * their Terraform address, which is how a Terraform user finds them.
 */
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { TemplateAudit, TemplateMessage } from './cloudformation.ts';
import type { Position } from './json-source.ts';
import type { TargetGroupInput } from './rules.ts';
import { taskDefinitionIssues } from './taskdef-file.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The plan's JSON representation: format_version and planned_values (Terraform docs, "JSON Output Format"). */
export function isTerraformPlan(value: unknown): boolean {
  return isObject(value) && typeof value.format_version === 'string' && isObject(value.planned_values);
}

interface PlannedResource {
  address: string;
  type: string;
  values: Record<string, unknown>;
  /** Path of the resource in the plan JSON, for positions. */
  path: string;
}

function plannedResources(module: unknown, path: string, out: PlannedResource[]): PlannedResource[] {
  if (!isObject(module)) return out;
  (Array.isArray(module.resources) ? module.resources : []).forEach((r, i) => {
    if (isObject(r) && r.mode === 'managed' && typeof r.address === 'string' && typeof r.type === 'string') {
      out.push({ address: r.address, type: r.type, values: isObject(r.values) ? r.values : {}, path: `${path}.resources[${i}]` });
    }
  });
  (Array.isArray(module.child_modules) ? module.child_modules : []).forEach((child, i) => {
    plannedResources(child, `${path}.child_modules[${i}]`, out);
  });
  return out;
}

/** Configuration expressions by resource address (without instance keys), module calls included. */
function configuredExpressions(module: unknown, prefix: string, out: Map<string, Record<string, unknown>>): Map<string, Record<string, unknown>> {
  if (!isObject(module)) return out;
  for (const r of Array.isArray(module.resources) ? module.resources : []) {
    if (isObject(r) && typeof r.address === 'string') out.set(prefix + r.address, isObject(r.expressions) ? r.expressions : {});
  }
  const calls = isObject(module.module_calls) ? module.module_calls : {};
  for (const [name, call] of Object.entries(calls)) {
    if (isObject(call)) configuredExpressions(call.module, `${prefix}module.${name}.`, out);
  }
  return out;
}

// "module.a[0].aws_x.y[\"k\"]" and "module.a.aws_x.y" are the same configuration block.
const withoutKeys = (address: string): string => address.replace(/\[[^\]]*\]/g, '');
const modulePrefix = (address: string, type: string): string => {
  const at = withoutKeys(address).lastIndexOf(`${type}.`);
  return at <= 0 ? '' : withoutKeys(address).slice(0, at);
};

/** The resource address an expression refers to, among `candidates`: references list "aws_x.y.arn" and "aws_x.y". */
function referenced(expression: unknown, prefix: string, candidates: ReadonlyMap<string, string>): string | undefined {
  const refs = isObject(expression) && Array.isArray(expression.references) ? expression.references : [];
  for (const ref of refs) if (typeof ref === 'string' && candidates.has(prefix + ref)) return candidates.get(prefix + ref);
  return undefined;
}

const first = (v: unknown): Record<string, unknown> | undefined => (Array.isArray(v) && isObject(v[0]) ? v[0] : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const TASK_DEFINITION = 'aws_ecs_task_definition';
const SERVICE = 'aws_ecs_service';
const TARGET_GROUPS = new Set(['aws_lb_target_group', 'aws_alb_target_group']);

export function auditInputFromPlan(plan: Record<string, unknown>, positions: ReadonlyMap<string, Position>): TemplateAudit {
  const planned = isObject(plan.planned_values) ? plan.planned_values : {};
  const resources = plannedResources(planned.root_module, 'planned_values.root_module', []);
  const config = isObject(plan.configuration) ? configuredExpressions(plan.configuration.root_module, '', new Map()) : new Map();
  const problems: TemplateMessage[] = [];
  const notes: TemplateMessage[] = [];
  const taskDefinitions: TaskDefinition[] = [];
  const taskDefinitionPositions: Array<ReadonlyMap<string, Position>> = [];
  const services: Service[] = [];
  const targetGroups: TargetGroupInput[] = [];
  const resourcePositions = new Map<string, Position>();

  // What each task definition and target group is called by reference: its known ARN, or its address before apply.
  const identity = new Map<PlannedResource, string>();
  const byConfigAddress = (type: string | Set<string>) => {
    const m = new Map<string, string>();
    for (const r of resources) {
      if (typeof type === 'string' ? r.type !== type : !type.has(r.type)) continue;
      const id = str(r.values.arn) ?? r.address;
      identity.set(r, id);
      // With count or for_each several instances share one configuration address; a reference to it is ambiguous.
      const key = withoutKeys(r.address);
      m.set(key, m.has(key) ? '' : id);
    }
    for (const [k, v] of m) if (v === '') m.delete(k);
    return m;
  };
  const tdByAddress = byConfigAddress(TASK_DEFINITION);
  const tgByAddress = byConfigAddress(TARGET_GROUPS);

  for (const r of resources) {
    const at = positions.get(r.path);
    const v = r.values;
    if (r.type === TASK_DEFINITION) {
      const containersPath = `${r.path}.values.container_definitions`;
      if (typeof v.container_definitions !== 'string') {
        notes.push({ path: r.path, message: `${r.address}: container_definitions is only known after apply: not audited` });
        continue;
      }
      let containers: unknown;
      try {
        containers = JSON.parse(v.container_definitions);
      } catch (error) {
        problems.push({ path: containersPath, message: `${r.address}: container_definitions is not JSON: ${(error as Error).message}` });
        continue;
      }
      const platform = first(v.runtime_platform);
      const td: Record<string, unknown> = {
        family: str(v.family) ?? r.address,
        taskDefinitionArn: identity.get(r),
        containerDefinitions: containers,
        ...(str(v.cpu) ? { cpu: str(v.cpu) } : {}),
        ...(str(v.memory) ? { memory: str(v.memory) } : {}),
        ...(str(v.network_mode) ? { networkMode: str(v.network_mode) } : {}),
        ...(Array.isArray(v.requires_compatibilities) ? { requiresCompatibilities: v.requires_compatibilities } : {}),
        ...(platform
          ? { runtimePlatform: { cpuArchitecture: str(platform.cpu_architecture), operatingSystemFamily: str(platform.operating_system_family) } }
          : {}),
      };
      const issues = taskDefinitionIssues(td);
      if (issues.length > 0) {
        for (const issue of issues) problems.push({ path: containersPath, message: `${r.address}: ${issue.path}: ${issue.message}` });
        continue;
      }
      const map = new Map<string, Position>();
      if (at) map.set('', at);
      const containersAt = positions.get(containersPath);
      // The containers are a JSON string inside the plan: a finding in them points at that string.
      if (containersAt) map.set('containerDefinitions', containersAt);
      taskDefinitions.push(td as TaskDefinition);
      taskDefinitionPositions.push(map);
    } else if (r.type === SERVICE) {
      const expressions = config.get(withoutKeys(r.address)) ?? {};
      const prefix = modulePrefix(r.address, SERVICE);
      const breaker = first(v.deployment_circuit_breaker);
      const controller = first(v.deployment_controller);
      const lbExpressions = Array.isArray(expressions.load_balancer) ? expressions.load_balancer : [];
      const service: Service = {
        serviceArn: r.address,
        serviceName: str(v.name),
        desiredCount: num(v.desired_count),
        launchType: str(v.launch_type) as Service['launchType'],
        schedulingStrategy: str(v.scheduling_strategy) as Service['schedulingStrategy'],
        healthCheckGracePeriodSeconds: num(v.health_check_grace_period_seconds),
        taskDefinition: str(v.task_definition) ?? referenced(expressions.task_definition, prefix, tdByAddress),
        deploymentConfiguration: {
          maximumPercent: num(v.deployment_maximum_percent),
          minimumHealthyPercent: num(v.deployment_minimum_healthy_percent),
          ...(breaker ? { deploymentCircuitBreaker: { enable: breaker.enable === true, rollback: breaker.rollback === true } } : {}),
        },
        ...(controller ? { deploymentController: { type: str(controller.type) as 'ECS' } } : {}),
        capacityProviderStrategy: (Array.isArray(v.capacity_provider_strategy) ? v.capacity_provider_strategy : [])
          .filter(isObject)
          .map((p) => ({ capacityProvider: str(p.capacity_provider) })),
        loadBalancers: (Array.isArray(v.load_balancer) ? v.load_balancer : []).filter(isObject).map((lb, i) => ({
          targetGroupArn:
            str(lb.target_group_arn) ?? referenced(isObject(lbExpressions[i]) ? lbExpressions[i].target_group_arn : undefined, prefix, tgByAddress),
          containerName: str(lb.container_name),
          containerPort: num(lb.container_port),
        })),
        ...(Array.isArray(v.vpc_lattice_configurations) && v.vpc_lattice_configurations.length > 0
          ? { deployments: [{ vpcLatticeConfigurations: v.vpc_lattice_configurations as [] }] }
          : {}),
      };
      services.push(service);
      if (at) resourcePositions.set(r.address, at);
    } else if (TARGET_GROUPS.has(r.type)) {
      const hc = first(v.health_check);
      const id = identity.get(r)!;
      targetGroups.push({
        targetGroup: {
          TargetGroupArn: id,
          TargetGroupName: str(v.name),
          Protocol: str(v.protocol),
          Port: num(v.port),
          TargetType: str(v.target_type),
          ...(hc
            ? {
                HealthCheckEnabled: hc.enabled === undefined ? undefined : hc.enabled === true,
                HealthCheckPath: str(hc.path),
                HealthCheckIntervalSeconds: num(hc.interval),
                HealthCheckTimeoutSeconds: num(hc.timeout),
                HealthyThresholdCount: num(hc.healthy_threshold),
                UnhealthyThresholdCount: num(hc.unhealthy_threshold),
              }
            : {}),
        },
        // The provider plans its default, "300", when the attribute is not set (seen in fixtures/terraform/checkout-web.tfplan.json).
        attributes:
          v.deregistration_delay === undefined || v.deregistration_delay === null
            ? []
            : [{ Key: 'deregistration_delay.timeout_seconds', Value: String(v.deregistration_delay) }],
      });
      if (at) resourcePositions.set(id, at);
    }
  }
  return { input: { taskDefinitions, services, targetGroups }, taskDefinitionPositions, resourcePositions, ignored: new Map(), problems, notes };
}
