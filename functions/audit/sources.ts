/**
 * The files of an offline audit, whatever produced them, as AuditInput:
 *
 * - a task definition, as register-task-definition takes it or
 *   describe-task-definition prints it (taskdef-file.ts);
 * - `aws ecs describe-services` output ({"services": [...]});
 * - `aws elbv2 describe-target-groups` output ({"TargetGroups": [...]});
 * - `aws elbv2 describe-target-group-attributes` output ({"Attributes": [...]}),
 *   which does not name its target group: it belongs to the only target group
 *   of the run, or to the one whose name starts the file name
 *   (checkout-web.attributes.json is checkout-web's);
 * - a CloudFormation template, JSON or YAML (cloudformation.ts);
 * - a Terraform plan, as `terraform show -json` prints it (terraform.ts).
 *
 * The API-shaped files are audited together, as the live path sees one
 * cluster: a service meets its task definition and target groups by ARN. A
 * template is audited on its own, as its references end at its edge.
 *
 * A file that cannot be read is an error entry; the other files are still
 * audited, so one broken file in a batch does not hide the findings of the rest.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Service } from '@aws-sdk/client-ecs';
import { glob } from 'tinyglobby';
import type * as z from 'zod/mini';
import { formatPath } from '../shared/config.ts';
import { auditInputFromTemplate, isCloudFormationTemplate, type TemplateAudit } from './cloudformation.ts';
import { attributesSchema, describeServicesSchema, describeTargetGroupsSchema } from './shapes.ts';
import { JsonSyntaxError, parseJsonWithPositions, positionOf, type ParsedJson, type Position } from './json-source.ts';
import type { InputMessage, SourceLocation } from './report.ts';
import { checkTaskDefinitionKeys } from './taskdef-model.ts';
import { serviceName, targetGroupName, type AuditInput, type Finding, type RuleId, type TargetGroup, type TargetGroupAttribute } from './rules.ts';
import { parseTaskDefinitionFile, positionInFile, TaskDefinitionFileError, type LoadedTaskDefinition } from './taskdef-file.ts';
import { auditInputFromPlan, isTerraformPlan } from './terraform.ts';
import { parseYamlWithPositions } from './yaml-source.ts';

/** Input audited in one go, and how to point its findings back at the files. */
export interface AuditUnit {
  input: AuditInput;
  locate(finding: Finding): SourceLocation | undefined;
  /** Rules switched off in the file itself for this finding's resource. */
  ignoredInline(finding: Finding): boolean;
}

export interface LoadedSources {
  units: AuditUnit[];
  errors: InputMessage[];
  notes: InputMessage[];
}

/** File paths for reports: relative to the working directory, '/'-separated, like a repository path. */
export function displayPath(file: string, cwd: string): string {
  const abs = resolve(cwd, file);
  const rel = relative(cwd, abs);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return (inside ? rel : abs).split(sep).join('/');
}

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * The files named by the arguments, in argument order, each once. A pattern
 * is expanded here too, so a quoted glob works as well as a shell's; a
 * pattern that matches nothing is an error, as a shell would leave it as is.
 */
export async function expandArguments(args: readonly string[], cwd: string): Promise<{ files: string[]; errors: InputMessage[] }> {
  const files: string[] = [];
  const errors: InputMessage[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    let matched: string[] = [arg];
    if (GLOB_CHARS.test(arg)) {
      matched = (await glob(arg, { cwd, onlyFiles: true, expandDirectories: false })).sort();
      if (matched.length === 0) {
        errors.push({ uri: arg, message: 'no file matches this pattern' });
        continue;
      }
    }
    for (const file of matched) {
      const key = resolve(cwd, file);
      if (seen.has(key)) continue;
      seen.add(key);
      files.push(file);
    }
  }
  return { files, errors };
}

type Kind = 'task-definition' | 'describe-services' | 'describe-target-groups' | 'target-group-attributes' | 'cloudformation' | 'terraform-plan';

function kindOf(value: unknown): Kind {
  if (isCloudFormationTemplate(value)) return 'cloudformation';
  if (isTerraformPlan(value)) return 'terraform-plan';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v.services) && !('containerDefinitions' in v)) return 'describe-services';
    if (Array.isArray(v.TargetGroups)) return 'describe-target-groups';
    if (Array.isArray(v.Attributes)) return 'target-group-attributes';
  }
  return 'task-definition';
}

interface Pool {
  taskDefinitions: Array<{ loaded: LoadedTaskDefinition; uri: string }>;
  services: Array<{ service: Service; uri: string; at?: Position }>;
  targetGroups: Array<{ targetGroup: TargetGroup; uri: string; at?: Position }>;
  attributes: Array<{ attributes: TargetGroupAttribute[]; uri: string }>;
}

const messageAt = (uri: string, at: Position | undefined, message: string): InputMessage =>
  at ? { uri, line: at.line, column: at.column, message } : { uri, message };

/** The one-line problems of TaskDefinitionFileError, `<file>:<line>:<column>: <text>`, as messages. */
function taskDefinitionErrors(error: TaskDefinitionFileError, uri: string): InputMessage[] {
  return error.problems.map((p) => {
    const rest = p.startsWith(uri) ? p.slice(uri.length) : `: ${p}`;
    const m = /^:(\d+):(\d+): (.*)$/s.exec(rest);
    return m ? { uri, line: Number(m[1]), column: Number(m[2]), message: m[3]! } : { uri, message: rest.replace(/^: /, '') };
  });
}

export async function loadSources(files: readonly string[], cwd: string): Promise<LoadedSources> {
  const errors: InputMessage[] = [];
  const notes: InputMessage[] = [];
  const units: AuditUnit[] = [];
  const pool: Pool = { taskDefinitions: [], services: [], targetGroups: [], attributes: [] };

  for (const file of files) {
    const uri = displayPath(file, cwd);
    let text: string;
    try {
      text = await readFile(resolve(cwd, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      errors.push({ uri, message: `cannot read: ${why}` });
      continue;
    }

    const yaml = /^\.(ya?ml|template)$/i.test(extname(file));
    let parsed: ParsedJson | undefined;
    try {
      parsed = yaml ? parseYamlWithPositions(text) : parseJsonWithPositions(text);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      errors.push({ uri, line: error.line, column: error.column, message: yaml ? error.reason : `invalid JSON: ${error.reason}` });
      continue;
    }
    const { value, positions } = parsed;
    const kind = kindOf(value);
    const at = (path: string) => positionOf(positions, path);
    const schemaErrors = (schema: z.ZodMiniType): boolean => {
      const result = schema.safeParse(value);
      if (result.success) return false;
      for (const issue of result.error.issues) {
        const path = formatPath(issue.path);
        errors.push(messageAt(uri, at(path), `${path || '(root)'}: ${issue.message}`));
      }
      return true;
    };

    if (kind === 'cloudformation') {
      units.push(templateUnit(auditInputFromTemplate(value as Record<string, unknown>, positions), positions, uri, errors, notes));
    } else if (kind === 'terraform-plan') {
      units.push(templateUnit(auditInputFromPlan(value as Record<string, unknown>, positions), positions, uri, errors, notes));
    } else if (yaml) {
      errors.push({ uri, line: 1, column: 1, message: 'a YAML file must be a CloudFormation template (with a Resources section)' });
    } else if (kind === 'task-definition') {
      try {
        pool.taskDefinitions.push({ loaded: parseTaskDefinitionFile(text, uri), uri });
      } catch (error) {
        if (!(error instanceof TaskDefinitionFileError)) throw error;
        errors.push(...taskDefinitionErrors(error, uri));
      }
    } else if (kind === 'describe-services') {
      if (schemaErrors(describeServicesSchema)) continue;
      const v = value as { services: Service[]; failures?: Array<{ arn?: string; reason?: string }> };
      for (const f of v.failures ?? [])
        notes.push(messageAt(uri, at('failures'), `service ${f.arn ?? '?'} was not described (${f.reason ?? 'no reason'}): not audited`));
      v.services.forEach((service, i) => {
        if (service.status === 'INACTIVE') notes.push(messageAt(uri, at(`services[${i}]`), `skipped ${serviceName(service)}: INACTIVE`));
        else pool.services.push({ service, uri, at: at(`services[${i}]`) });
      });
    } else if (kind === 'describe-target-groups') {
      if (schemaErrors(describeTargetGroupsSchema)) continue;
      (value as { TargetGroups: TargetGroup[] }).TargetGroups.forEach((targetGroup, i) => {
        pool.targetGroups.push({ targetGroup, uri, at: at(`TargetGroups[${i}]`) });
      });
    } else {
      if (schemaErrors(attributesSchema)) continue;
      pool.attributes.push({ attributes: (value as { Attributes: TargetGroupAttribute[] }).Attributes, uri });
    }
  }

  const pooled = poolUnit(pool, errors, notes);
  if (pooled) units.unshift(pooled);
  return { units, errors, notes };
}

/** A CloudFormation template or a Terraform plan: audited on its own, as its references end at its edge. */
function templateUnit(t: TemplateAudit, positions: ReadonlyMap<string, Position>, uri: string, errors: InputMessage[], notes: InputMessage[]): AuditUnit {
  for (const p of t.problems) errors.push(messageAt(uri, positionOf(positions, p.path), `${p.path}: ${p.message}`));
  for (const n of t.notes) notes.push(messageAt(uri, positionOf(positions, n.path), `${n.path}: ${n.message}`));
  const where = (p: Position | undefined): SourceLocation | undefined => p && { uri, line: p.line, column: p.column };
  return {
    input: t.input,
    locate: (f) => {
      if (f.location) {
        const map = t.taskDefinitionPositions[f.location.taskDefinition];
        return map && where(positionOf(map, f.location.path));
      }
      return where(t.resourcePositions.get(f.resource));
    },
    ignoredInline: (f) => t.ignored.get(f.resource)?.has(f.rule as RuleId) ?? false,
  };
}

/** The API-shaped files as one input, with each attributes file given to its target group. */
function poolUnit(pool: Pool, errors: InputMessage[], notes: InputMessage[]): AuditUnit | undefined {
  if (pool.taskDefinitions.length + pool.services.length + pool.targetGroups.length + pool.attributes.length === 0) return undefined;

  const attributesOf = new Map<TargetGroup, TargetGroupAttribute[]>();
  for (const a of pool.attributes) {
    const name = basename(a.uri);
    const candidates =
      pool.targetGroups.length === 1 && pool.attributes.length === 1
        ? pool.targetGroups
        : pool.targetGroups.filter((t) => t.targetGroup.TargetGroupName && name.startsWith(`${t.targetGroup.TargetGroupName}.`));
    // The longest name wins ("web-admin.attributes.json" is web-admin's, not web's), then a target group from the same folder.
    const dir = (uri: string) => uri.slice(0, uri.lastIndexOf('/') + 1);
    const ranked = candidates.sort(
      (x, y) =>
        (y.targetGroup.TargetGroupName?.length ?? 0) - (x.targetGroup.TargetGroupName?.length ?? 0) ||
        Number(dir(y.uri) === dir(a.uri)) - Number(dir(x.uri) === dir(a.uri)),
    );
    const owner = ranked.find((t) => !attributesOf.has(t.targetGroup)) ?? ranked[0];
    if (!owner) {
      errors.push({
        uri: a.uri,
        message:
          pool.targetGroups.length === 0
            ? 'target group attributes without a target group: add the describe-target-groups output of its target group to the same run'
            : `cannot tell which target group these attributes belong to (describe-target-group-attributes does not say): name the file after it, e.g. ${pool.targetGroups[0]!.targetGroup.TargetGroupName ?? '<TargetGroupName>'}.attributes.json`,
      });
    } else if (attributesOf.has(owner.targetGroup)) {
      errors.push({ uri: a.uri, message: `a second attributes file for target group ${owner.targetGroup.TargetGroupName}` });
    } else {
      attributesOf.set(owner.targetGroup, a.attributes);
    }
  }

  const tdRefs = new Set(pool.taskDefinitions.map((t) => t.loaded.taskDefinition.taskDefinitionArn).filter((a) => a));
  for (const { service, uri, at } of pool.services) {
    if (service.taskDefinition && !tdRefs.has(service.taskDefinition)) {
      notes.push(
        messageAt(
          uri,
          at,
          `${serviceName(service)} runs ${service.taskDefinition}, which no file of this run holds: add its describe-task-definition output to audit them together`,
        ),
      );
    }
  }
  for (const { targetGroup, uri, at } of pool.targetGroups) {
    if (!attributesOf.has(targetGroup)) {
      notes.push(
        messageAt(
          uri,
          at,
          `no describe-target-group-attributes output for ${targetGroup.TargetGroupName ?? targetGroup.TargetGroupArn}: deregistration_delay.timeout_seconds is taken as its default, 300 s`,
        ),
      );
    }
  }

  const input: AuditInput = {
    taskDefinitions: pool.taskDefinitions.map((t) => t.loaded.taskDefinition),
    // Task-definition files are what a person writes by hand, so misspelled keys are checked there.
    checkKeys: checkTaskDefinitionKeys,
    services: pool.services.map((s) => s.service),
    targetGroups: pool.targetGroups.map((t) => ({ targetGroup: t.targetGroup, attributes: attributesOf.get(t.targetGroup) ?? [] })),
  };
  const byResource = new Map<string, SourceLocation>();
  for (const s of pool.services) if (s.at) byResource.set(serviceName(s.service), { uri: s.uri, line: s.at.line, column: s.at.column });
  for (const t of pool.targetGroups) if (t.at) byResource.set(targetGroupName(t.targetGroup), { uri: t.uri, line: t.at.line, column: t.at.column });
  return {
    input,
    locate: (f) => {
      if (!f.location) return byResource.get(f.resource);
      const t = pool.taskDefinitions[f.location.taskDefinition];
      const p = t && positionInFile(t.loaded, f.location.path);
      return t && p ? { uri: t.uri, line: p.line, column: p.column } : undefined;
    },
    ignoredInline: () => false,
  };
}
