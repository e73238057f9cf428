/**
 * A CloudFormation template (JSON or YAML) as audit input: its
 * AWS::ECS::TaskDefinition, AWS::ECS::Service and
 * AWS::ElasticLoadBalancingV2::TargetGroup resources in the shapes the live
 * path gives the rules (DescribeTaskDefinition, DescribeServices,
 * DescribeTargetGroups + DescribeTargetGroupAttributes), linked the way the
 * template links them: Ref, Fn::GetAtt and Fn::Sub.
 *
 * Nothing is deployed, so only what the template itself decides is resolved:
 * parameter defaults, mappings, references between its resources. A value
 * that depends on the deployment (Fn::ImportValue, a condition) is left unset
 * and said so in a note, rather than guessed.
 *
 * Inline suppression lives in the resource's Metadata, which CloudFormation
 * stores without reading (cfn-lint and checkov use the same place):
 *   Metadata: { ecs-caretaker: { ignore: [stop-timeout-long] } }
 * Task definition files cannot carry one: RegisterTaskDefinition rejects
 * unknown keys. They use --ignore or a baseline file.
 */
import type { ContainerDefinition, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { formatPath } from '../shared/config.ts';
import type { Position } from './json-source.ts';
import { RULES, type AuditInput, type RuleId, type TargetGroupAttribute, type TargetGroupInput } from './rules.ts';
import { attributeIssues, serviceIssues, targetGroupIssues } from './shapes.ts';
import { taskDefinitionIssues } from './taskdef-file.ts';

export const SUPPRESSION_KEY = 'ecs-caretaker';

/** A problem or note at a place in the template. */
export interface TemplateMessage {
  path: string;
  message: string;
}

export interface TemplateAudit {
  input: AuditInput;
  /** For each task definition of `input`, its API paths mapped to positions in the template. */
  taskDefinitionPositions: Array<ReadonlyMap<string, Position>>;
  /** Where each audited resource (by the name findings give it) is declared. */
  resourcePositions: ReadonlyMap<string, Position>;
  /** Rules switched off by a resource's Metadata, by the resource name findings give it. */
  ignored: ReadonlyMap<string, ReadonlySet<RuleId>>;
  /** Errors: the resource is not audited. */
  problems: TemplateMessage[];
  /** What could not be resolved offline and was audited as unset. */
  notes: TemplateMessage[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A template is recognised by its Resources section of typed resources. */
export function isCloudFormationTemplate(value: unknown): boolean {
  if (!isObject(value)) return false;
  if ('AWSTemplateFormatVersion' in value) return true;
  return isObject(value.Resources) && Object.values(value.Resources).some((r) => isObject(r) && typeof r.Type === 'string');
}

const TASK_DEFINITION = 'AWS::ECS::TaskDefinition';
const SERVICE = 'AWS::ECS::Service';
const TARGET_GROUP = 'AWS::ElasticLoadBalancingV2::TargetGroup';

// What Ref returns differs by type; only the identity matters here, so each resource gets a token that names it.
const tokenOf = (type: string, logicalId: string): string | undefined =>
  type === TASK_DEFINITION
    ? `taskDefinition:${logicalId}`
    : type === SERVICE
      ? `service:${logicalId}`
      : type === TARGET_GROUP
        ? `targetGroup:${logicalId}`
        : undefined;

// Fn::GetAtt attributes that return the same identity as Ref (CloudFormation resource reference, "Return values").
const IDENTITY_ATTRIBUTES = new Set(['TaskDefinitionArn', 'TargetGroupArn', 'ServiceArn', 'Name']);

const UNRESOLVED = Symbol('unresolved');
const NO_VALUE = Symbol('AWS::NoValue');
type Resolved = unknown;

class Resolver {
  readonly notes: TemplateMessage[] = [];
  private readonly template: Record<string, unknown>;
  // A plain field, not a parameter property: Node's type stripping runs this file as it is.
  constructor(template: Record<string, unknown>) {
    this.template = template;
  }

  private get parameters(): Record<string, unknown> {
    return isObject(this.template.Parameters) ? this.template.Parameters : {};
  }
  private get resources(): Record<string, unknown> {
    return isObject(this.template.Resources) ? this.template.Resources : {};
  }

  private unresolved(path: string, why: string): typeof UNRESOLVED {
    this.notes.push({ path, message: `${why}: cannot be resolved without deploying, audited as if unset` });
    return UNRESOLVED;
  }

  /** The value of `${name}` or Ref name; a string placeholder for what stays open but is only text. */
  private ref(name: string, path: string): Resolved {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name.startsWith('AWS::')) return `\${${name}}`;
    const parameter = this.parameters[name];
    if (isObject(parameter)) {
      if (parameter.Default !== undefined) return parameter.Default;
      // A String parameter is text in an image name or a command; a Number without default has no value to audit.
      return parameter.Type === 'Number' ? this.unresolved(path, `parameter ${name} has no Default`) : `\${${name}}`;
    }
    const resource = this.resources[name];
    if (isObject(resource)) return tokenOf(String(resource.Type), name) ?? `\${${name}}`;
    return this.unresolved(path, `Ref to "${name}", which is neither a parameter nor a resource of this template`);
  }

  private getAtt(target: unknown, path: string): Resolved {
    const [name, attribute] = Array.isArray(target) ? target : [];
    if (typeof name !== 'string' || typeof attribute !== 'string') return this.unresolved(path, 'Fn::GetAtt without [resource, attribute]');
    const resource = this.resources[name];
    const token = isObject(resource) ? tokenOf(String(resource.Type), name) : undefined;
    if (token && IDENTITY_ATTRIBUTES.has(attribute)) return token;
    return `\${${name}.${attribute}}`;
  }

  private sub(args: unknown, path: string): Resolved {
    const [text, vars] = Array.isArray(args) ? args : [args, {}];
    if (typeof text !== 'string') return this.unresolved(path, 'Fn::Sub without a string');
    const variables = isObject(vars) ? vars : {};
    return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const value =
        name in variables
          ? this.resolve(variables[name], `${path}.${name}`)
          : name.includes('.')
            ? this.getAtt([name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)], path)
            : this.ref(name, path);
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : whole;
    });
  }

  /** The value CloudFormation would pass to the resource, or UNRESOLVED / NO_VALUE. */
  resolve(node: unknown, path: string): Resolved {
    if (Array.isArray(node)) {
      return node.map((item, i) => this.resolve(item, `${path}[${i}]`)).filter((v) => v !== NO_VALUE && v !== UNRESOLVED);
    }
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const arg = node[fn];
      switch (fn) {
        case 'Ref':
          return typeof arg === 'string' ? this.ref(arg, path) : this.unresolved(path, 'Ref without a name');
        case 'Fn::GetAtt':
          return this.getAtt(typeof arg === 'string' ? arg.split(/\.(.*)/s).slice(0, 2) : arg, path);
        case 'Fn::Sub':
          return this.sub(arg, path);
        case 'Fn::Join': {
          const [delimiter, list] = Array.isArray(arg) ? arg : [];
          const parts = this.resolve(list, path);
          if (typeof delimiter !== 'string' || !Array.isArray(parts) || parts.some((p) => typeof p === 'object'))
            return this.unresolved(path, 'Fn::Join over values not known offline');
          return parts.map(String).join(delimiter);
        }
        case 'Fn::Select': {
          const [index, list] = Array.isArray(arg) ? arg : [];
          const items = this.resolve(list, path);
          const i = Number(this.resolve(index, path));
          return Array.isArray(items) && Number.isInteger(i) && i >= 0 && i < items.length
            ? items[i]
            : this.unresolved(path, 'Fn::Select out of what is known offline');
        }
        case 'Fn::FindInMap': {
          const [map, top, second] = Array.isArray(arg) ? arg.map((a) => this.resolve(a, path)) : [];
          const mappings = isObject(this.template.Mappings) ? this.template.Mappings : {};
          const level1 = typeof map === 'string' ? mappings[map] : undefined;
          const level2 = isObject(level1) && typeof top === 'string' ? level1[top] : undefined;
          const value = isObject(level2) && typeof second === 'string' ? level2[second] : undefined;
          return value === undefined ? this.unresolved(path, 'Fn::FindInMap with keys known only at deploy time') : value;
        }
        case 'Fn::If': {
          const [condition, whenTrue, whenFalse] = Array.isArray(arg) ? arg : [];
          const a = this.resolve(whenTrue, `${path}[1]`);
          const b = this.resolve(whenFalse, `${path}[2]`);
          // Both branches alike: the condition does not matter.
          if (JSON.stringify(a) === JSON.stringify(b) && a !== UNRESOLVED) return a;
          return this.unresolved(path, `Fn::If on condition ${String(condition)}`);
        }
        default:
          if (fn.startsWith('Fn::') || fn === 'Condition') return this.unresolved(path, fn);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const resolved = this.resolve(value, path ? `${path}.${key}` : key);
      if (resolved !== NO_VALUE && resolved !== UNRESOLVED) out[key] = resolved;
    }
    return out;
  }
}

// Keys whose children are user data (labels, driver options), not properties to rename.
const FREE_FORM = new Set(['DockerLabels', 'Options', 'DriverOpts', 'Labels', 'SystemControls']);
// Where lower-casing the first letter is not the API name.
const RENAMED: Record<string, string> = {
  EFSVolumeConfiguration: 'efsVolumeConfiguration',
  FSxWindowsFileServerVolumeConfiguration: 'fsxWindowsFileServerVolumeConfiguration',
};
const camel = (key: string): string => RENAMED[key] ?? key.charAt(0).toLowerCase() + key.slice(1);

/**
 * CloudFormation's PascalCase properties as the ECS API's camelCase, keeping
 * for every API path the template path it came from.
 */
function toApiShape(value: unknown, apiPath: PropertyKey[], sourcePath: PropertyKey[], sources: Map<string, string>, freeForm = false): unknown {
  sources.set(formatPath(apiPath), formatPath(sourcePath));
  if (Array.isArray(value)) return value.map((v, i) => toApiShape(v, [...apiPath, i], [...sourcePath, i], sources));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = freeForm ? key : camel(key);
    out[name] = toApiShape(v, [...apiPath, name], [...sourcePath, key], sources, !freeForm && FREE_FORM.has(key));
  }
  return out;
}

// CloudFormation passes numbers and booleans through as text as often as not ("Essential": "true"); the API has types.
const toInt = (v: unknown): unknown => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v);
const toBool = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : v);
const toText = (v: unknown): unknown => (typeof v === 'number' ? String(v) : v);
function coerce(obj: unknown, fields: readonly string[], as: (v: unknown) => unknown): void {
  if (!isObject(obj)) return;
  for (const f of fields) if (f in obj) obj[f] = as(obj[f]);
}

function typedTaskDefinition(td: Record<string, unknown>): void {
  coerce(td, ['cpu', 'memory'], toText);
  for (const c of Array.isArray(td.containerDefinitions) ? td.containerDefinitions : []) {
    coerce(c, ['cpu', 'memory', 'memoryReservation', 'stopTimeout', 'startTimeout'], toInt);
    coerce(c, ['essential'], toBool);
    if (isObject(c)) {
      coerce(c.healthCheck, ['interval', 'timeout', 'retries', 'startPeriod'], toInt);
      for (const p of Array.isArray(c.portMappings) ? c.portMappings : []) coerce(p, ['containerPort', 'hostPort'], toInt);
      for (const e of Array.isArray(c.environment) ? c.environment : []) coerce(e, ['value'], toText);
    }
  }
}

function typedService(s: Record<string, unknown>): void {
  coerce(s, ['desiredCount', 'healthCheckGracePeriodSeconds'], toInt);
  const dc = s.deploymentConfiguration;
  coerce(dc, ['maximumPercent', 'minimumHealthyPercent'], toInt);
  if (isObject(dc)) coerce(dc.deploymentCircuitBreaker, ['enable', 'rollback'], toBool);
  for (const lb of Array.isArray(s.loadBalancers) ? s.loadBalancers : []) coerce(lb, ['containerPort'], toInt);
}

const RULE_IDS = new Set<string>(RULES.map((r) => r.id));

/** Reads Metadata.ecs-caretaker.ignore: a list of rule ids, or of {rule, reason}. */
function suppressions(resource: Record<string, unknown>, path: string, problems: TemplateMessage[]): Set<RuleId> {
  const out = new Set<RuleId>();
  const meta = isObject(resource.Metadata) ? resource.Metadata[SUPPRESSION_KEY] : undefined;
  if (meta === undefined) return out;
  const where = `${path}.Metadata.${SUPPRESSION_KEY}`;
  const list = isObject(meta) ? meta.ignore : undefined;
  if (!Array.isArray(list)) {
    problems.push({ path: where, message: `expected {"ignore": ["<rule id>", ...]}` });
    return out;
  }
  list.forEach((entry, i) => {
    const rule = isObject(entry) ? entry.rule : entry;
    if (typeof rule === 'string' && RULE_IDS.has(rule)) out.add(rule as RuleId);
    else problems.push({ path: `${where}.ignore[${i}]`, message: `unknown rule ${JSON.stringify(rule)}: expected one of ${[...RULE_IDS].join(', ')}` });
  });
  return out;
}

export function auditInputFromTemplate(template: Record<string, unknown>, positions: ReadonlyMap<string, Position>): TemplateAudit {
  const resolver = new Resolver(template);
  const problems: TemplateMessage[] = [];
  const taskDefinitions: TaskDefinition[] = [];
  const taskDefinitionPositions: Array<ReadonlyMap<string, Position>> = [];
  const services: Service[] = [];
  const targetGroups: TargetGroupInput[] = [];
  const resourcePositions = new Map<string, Position>();
  const ignored = new Map<string, ReadonlySet<RuleId>>();
  const resources = isObject(template.Resources) ? template.Resources : {};

  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource)) continue;
    const type = String(resource.Type);
    if (type !== TASK_DEFINITION && type !== SERVICE && type !== TARGET_GROUP) continue;
    const base = `Resources.${logicalId}`;
    const propsPath = `${base}.Properties`;
    const props = resolver.resolve(resource.Properties ?? {}, propsPath);
    if (!isObject(props)) {
      problems.push({ path: propsPath, message: 'expected an object of properties' });
      continue;
    }
    const skip = suppressions(resource, base, problems);
    const at = positions.get(base);

    if (type === TASK_DEFINITION) {
      const sources = new Map<string, string>();
      const td = toApiShape(props, [], ['Resources', logicalId, 'Properties'], sources) as Record<string, unknown>;
      typedTaskDefinition(td);
      // Without Family, CloudFormation names the family after the stack and logical id; the logical id is what the reader knows.
      td.family ??= logicalId;
      td.taskDefinitionArn = tokenOf(type, logicalId);
      const issues = taskDefinitionIssues(td);
      if (issues.length > 0) {
        for (const issue of issues) problems.push({ path: sources.get(issue.path) ?? propsPath, message: issue.message });
        continue;
      }
      const mapped = new Map<string, Position>();
      for (const [apiPath, sourcePath] of sources) {
        const p = positions.get(sourcePath);
        if (p) mapped.set(apiPath, p);
      }
      if (at) mapped.set('', at);
      taskDefinitions.push(td as TaskDefinition);
      taskDefinitionPositions.push(mapped);
      const name = `taskDefinition:${String(td.family)}`;
      if (skip.size > 0) {
        ignored.set(name, skip);
        for (const c of (td.containerDefinitions ?? []) as ContainerDefinition[]) ignored.set(`${name}#container:${c.name}`, skip);
      }
    } else if (type === SERVICE) {
      const sources = new Map<string, string>();
      const s = toApiShape(props, [], ['Resources', logicalId, 'Properties'], sources) as Record<string, unknown>;
      typedService(s);
      const issues = serviceIssues(s);
      if (issues.length > 0) {
        for (const issue of issues) problems.push({ path: sources.get(issue.path) ?? propsPath, message: issue.message });
        continue;
      }
      s.serviceName ??= logicalId;
      // CloudFormation creates a service with one task when DesiredCount is left out (AWS::ECS::Service, DesiredCount; the
      // behaviour quoted in aws-cdk pull request 13130, which stopped CDK setting 1 itself). One it could not resolve stays unknown.
      const declared = isObject(resource.Properties) && 'DesiredCount' in resource.Properties;
      if (s.schedulingStrategy !== 'DAEMON' && !declared) s.desiredCount ??= 1;
      // The live path sees VPC Lattice on the deployments (DescribeServices); the template sets it on the service.
      if (Array.isArray(s.vpcLatticeConfigurations)) s.deployments = [{ vpcLatticeConfigurations: s.vpcLatticeConfigurations }];
      const name = `service:${String(s.serviceName)}`;
      services.push(s as Service);
      if (at) resourcePositions.set(name, at);
      if (skip.size > 0) ignored.set(name, skip);
    } else {
      const { TargetGroupAttributes, ...tg } = props;
      coerce(tg, ['Port', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount'], toInt);
      coerce(tg, ['HealthCheckEnabled'], toBool);
      const token = tokenOf(type, logicalId)!;
      const attributes = (Array.isArray(TargetGroupAttributes) ? TargetGroupAttributes : []).map((a) =>
        isObject(a) ? { Key: a.Key, Value: typeof a.Value === 'number' || typeof a.Value === 'boolean' ? String(a.Value) : a.Value } : a,
      );
      const issues = [...targetGroupIssues(tg), ...attributeIssues(attributes).map((i) => ({ ...i, path: `TargetGroupAttributes${i.path}` }))];
      if (issues.length > 0) {
        for (const issue of issues) problems.push({ path: `${propsPath}.${issue.path}`, message: issue.message });
        continue;
      }
      targetGroups.push({
        targetGroup: { ...tg, TargetGroupArn: token, TargetGroupName: typeof tg.Name === 'string' ? tg.Name : logicalId },
        attributes: attributes as TargetGroupAttribute[],
      });
      if (at) resourcePositions.set(token, at);
      if (skip.size > 0) ignored.set(token, skip);
    }
  }
  return { input: { taskDefinitions, services, targetGroups }, taskDefinitionPositions, resourcePositions, ignored, problems, notes: resolver.notes };
}
