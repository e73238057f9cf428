/**
 * Loads a task definition from a local JSON file, as `aws ecs
 * register-task-definition --cli-input-json` takes it or as `aws ecs
 * describe-task-definition` prints it (`{"taskDefinition": {...}}`), and
 * checks the fields the audit reads. A bad file gets one line per problem,
 * each naming the JSON path and the line in the file.
 *
 * Types follow the API, like the AWS CLI: `cpu` and `memory` are strings,
 * environment values are strings. The CLI would reject the file otherwise,
 * so saying so here saves a failed pipeline run.
 */
import { readFile } from 'node:fs/promises';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { formatPath } from '../shared/config.ts';
import { JsonSyntaxError, parseJsonWithPositions, positionOf, type Position } from './json-source.ts';

// The English locale gives the messages of the checks that have no custom text.
z.config(en());

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** The message for a wrong or missing value: "required: ..." or "expected ..., got a number". */
const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `required: expected ${what}` : `expected ${what}, got ${typeName(issue.input)}`;

const str = (what = 'a string') => z.string({ error: expected(what) });
const int = (what = 'an integer') => z.int({ error: expected(what) });
const bool = () => z.boolean({ error: expected('true or false') });
const strings = (what: string) => z.array(str('a string'), { error: expected(what) });
const arrayOf = <T extends z.ZodMiniType>(item: T, what: string) => z.array(item, { error: expected(what) });
const object = <S extends Record<string, z.ZodMiniType>>(shape: S, what = 'an object') => z.looseObject(shape, { error: expected(what) });
const oneOf = <const V extends readonly [string, ...string[]]>(values: V) =>
  z.enum(values, {
    error: (issue: { input?: unknown }) =>
      issue.input === undefined ? `required: expected one of ${values.join(', ')}` : `expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`,
  });

const port = int('a port number').check(z.gte(0, 'expected a port number 0-65535'), z.lte(65535, 'expected a port number 0-65535'));
const seconds = int('a number of seconds').check(z.gte(0, 'expected a number of seconds >= 0'));

const healthCheck = object(
  {
    command: strings('an array of strings such as ["CMD-SHELL", "curl -f http://127.0.0.1/ || exit 1"]').check(
      z.minLength(1, 'expected at least "CMD" or "CMD-SHELL" and a command'),
    ),
    interval: z.optional(seconds),
    timeout: z.optional(seconds),
    retries: z.optional(int()),
    startPeriod: z.optional(seconds),
  },
  'an object with a command array',
);

const containerDefinition = object(
  {
    name: str('a container name').check(z.minLength(1, 'expected a container name')),
    image: str('an image reference'),
    essential: z.optional(bool()),
    cpu: z.optional(int('CPU units as an integer')),
    memory: z.optional(int('MiB as an integer')),
    memoryReservation: z.optional(int('MiB as an integer')),
    stopTimeout: z.optional(seconds),
    startTimeout: z.optional(seconds),
    healthCheck: z.optional(healthCheck),
    portMappings: z.optional(
      arrayOf(
        object({ containerPort: z.optional(port), hostPort: z.optional(port), protocol: z.optional(oneOf(['tcp', 'udp'])), name: z.optional(str()) }),
        'an array of port mappings',
      ),
    ),
    // The CLI rejects a number here ("Invalid type for parameter ... value"): environment values are strings.
    environment: z.optional(
      arrayOf(object({ name: str('a variable name'), value: str('a string (quote numbers and booleans: "8080")') }), 'an array of {"name", "value"} objects'),
    ),
    command: z.optional(strings('an array of strings')),
    entryPoint: z.optional(strings('an array of strings')),
    dependsOn: z.optional(
      arrayOf(
        object({ containerName: str('a container name'), condition: oneOf(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY']) }),
        'an array of {"containerName", "condition"} objects',
      ),
    ),
  },
  'a container definition object',
);

// Family names: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens" (RegisterTaskDefinition).
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;

const taskDefinitionSchema = object(
  {
    family: str('a family name').check(z.regex(FAMILY, 'expected 1-255 letters, digits, "_" or "-"')),
    revision: z.optional(int()),
    taskDefinitionArn: z.optional(str()),
    containerDefinitions: arrayOf(containerDefinition, 'an array of container definitions').check(z.minLength(1, 'expected at least one container definition')),
    cpu: z.optional(str('a string such as "256" or "1 vCPU"')),
    memory: z.optional(str('a string such as "512" or "2 GB"')),
    networkMode: z.optional(oneOf(['bridge', 'host', 'awsvpc', 'none'])),
    requiresCompatibilities: z.optional(arrayOf(oneOf(['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES']), 'an array such as ["FARGATE"]')),
    runtimePlatform: z.optional(object({ cpuArchitecture: z.optional(oneOf(['X86_64', 'ARM64'])), operatingSystemFamily: z.optional(str()) })),
  },
  'a task definition object',
).check(
  z.superRefine((td, ctx) => {
    const names = new Map<string, number>();
    td.containerDefinitions.forEach((c, i) => {
      const first = names.get(c.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          input: c.name,
          path: ['containerDefinitions', i, 'name'],
          message: `duplicate container name "${c.name}" (also containerDefinitions[${first}])`,
        });
      else names.set(c.name, i);
    });
    td.containerDefinitions.forEach((c, i) => {
      (c.dependsOn ?? []).forEach((d, j) => {
        if (!names.has(d.containerName)) {
          ctx.addIssue({
            code: 'custom',
            input: d.containerName,
            path: ['containerDefinitions', i, 'dependsOn', j, 'containerName'],
            message: `no container named "${d.containerName}" in this task definition`,
          });
        }
      });
    });
  }),
);

export class TaskDefinitionFileError extends Error {
  override name = 'TaskDefinitionFileError';
  readonly file: string;
  /** One line per problem: `<file>:<line>:<column>: <json path>: <what was expected>`. */
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${file}: ${problems.length} problems\n  ${problems.join('\n  ')}`);
    this.file = file;
    this.problems = problems;
  }
}

export interface LoadedTaskDefinition {
  file: string;
  taskDefinition: TaskDefinition;
  /** '' for a register-task-definition file, 'taskDefinition.' for describe-task-definition output. */
  pathPrefix: string;
  positions: ReadonlyMap<string, Position>;
}

/** What is wrong with a task definition in the API shape, by path (`containerDefinitions[0].image`); empty when the rules can read it. */
export function taskDefinitionIssues(candidate: unknown): Array<{ path: string; message: string }> {
  const result = taskDefinitionSchema.safeParse(candidate);
  return result.success ? [] : result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** `prefix` ends with '.', or is empty. */
const joinPath = (prefix: string, path: string): string => (path ? prefix + path : prefix.slice(0, -1));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates the text of a task definition file; `file` only names it in messages. */
export function parseTaskDefinitionFile(text: string, file: string): LoadedTaskDefinition {
  let parsed: ReturnType<typeof parseJsonWithPositions>;
  try {
    parsed = parseJsonWithPositions(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new TaskDefinitionFileError(file, [`${file}:${error.line}:${error.column}: invalid JSON: ${error.reason}`]);
    throw error;
  }
  const { value, positions } = parsed;
  const at = (path: string): string => {
    const p = positionOf(positions, path);
    return p ? `${file}:${p.line}:${p.column}` : file;
  };

  if (Array.isArray(value)) {
    throw new TaskDefinitionFileError(file, [
      `${at('')}: expected a task definition object, got an array (a bare containerDefinitions list, as in Terraform's container_definitions?): wrap it as {"family": "...", "containerDefinitions": [...]}`,
    ]);
  }
  if (!isObject(value)) throw new TaskDefinitionFileError(file, [`${at('')}: expected a task definition object, got ${typeName(value)}`]);
  if ('ContainerDefinitions' in value && !('containerDefinitions' in value)) {
    throw new TaskDefinitionFileError(file, [
      `${at('')}: "ContainerDefinitions" is CloudFormation's spelling; expected the ECS API shape with camelCase fields ("family", "containerDefinitions"), as register-task-definition --cli-input-json takes`,
    ]);
  }
  // describe-task-definition wraps the definition (and puts tags beside it).
  const wrapped = isObject(value.taskDefinition) && !('containerDefinitions' in value);
  const pathPrefix = wrapped ? 'taskDefinition.' : '';
  const candidate = wrapped ? value.taskDefinition : value;

  const issues = taskDefinitionIssues(candidate);
  if (issues.length > 0) {
    const problems = issues.map(({ path, message }) => {
      const full = joinPath(pathPrefix, path);
      return `${at(full)}: ${full || '(root)'}: ${message}`;
    });
    throw new TaskDefinitionFileError(file, problems);
  }
  // The schema checked every field the rules read; the rest is passed through as the API returned it.
  return { file, taskDefinition: candidate as TaskDefinition, pathPrefix, positions };
}

export async function loadTaskDefinitionFile(file: string): Promise<LoadedTaskDefinition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new TaskDefinitionFileError(file, [`${file}: cannot read: ${why}`]);
  }
  return parseTaskDefinitionFile(text, file);
}

/** Where a finding's path (relative to the task definition) is in the file. */
export function positionInFile(loaded: LoadedTaskDefinition, path: string): Position | undefined {
  return positionOf(loaded.positions, joinPath(loaded.pathPrefix, path));
}
