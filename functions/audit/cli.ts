/**
 * `ecs-caretaker audit`: runs the rules on local task definition files or on
 * a live cluster and prints the findings. Everything it touches comes in
 * through `main`'s arguments, so tests run it in-process.
 *
 * Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 a usage
 * or input error (bad flag, unreadable or invalid file, AWS call refused).
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { elbv2Reader } from './elbv2.ts';
import { collectLive, LiveAuditError, type LiveClients } from './live.ts';
import { isFailing, renderJson, renderSarif, renderTable, type FailOn, type ReportOptions, type SourceLocation } from './report.ts';
import { SEVERITIES } from '../shared/severity.ts';
import { audit, RULES, type AuditInput, type Finding } from './rules.ts';
import { loadTaskDefinitionFile, positionInFile, TaskDefinitionFileError, type LoadedTaskDefinition } from './taskdef-file.ts';
import { checkTaskDefinitionKeys } from './taskdef-model.ts';

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Injected AWS clients for live mode; ECS and ELBv2 clients are built from the environment when absent. */
  clients?: Partial<LiveClients>;
  /** Base for relative file paths; process.cwd() by default. */
  cwd?: string;
}

export const USAGE = `Usage:
  ecs-caretaker audit --task-def <file.json> [--task-def <file.json> ...] [options]
  ecs-caretaker audit --cluster <name> [--service <name> ...] [--region <region>] [options]
  ecs-caretaker audit --list-rules [--format table|json]

Audits ECS task definitions (register-task-definition or describe-task-definition
JSON), or a cluster's services, for configuration that looks harmless but slows
deployments, stalls drains or gets healthy tasks killed.

Options:
  --task-def <file>      a task definition JSON file; repeat for several
  --cluster <name>       audit the services of a live cluster, their task definitions
                         and target groups (needs AWS credentials, read-only calls)
  --service <name>       only this service of --cluster; repeat for several
  --region <region>      AWS region for --cluster (default: AWS_REGION, AWS_DEFAULT_REGION)
  --format <format>      table (default), json or sarif (SARIF 2.1.0 for code scanning)
  --fail-on <severity>   exit 1 when a finding is at or above it: info, low, medium,
                         high (default), critical, or none to never fail
  --list-rules           print the rules, their severity and source, and exit
  -h, --help             print this help

Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error.
`;

const FORMATS = ['table', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

class UsageError extends Error {}

interface Options {
  taskDefs: string[];
  cluster?: string;
  services: string[];
  region?: string;
  format: Format;
  failOn: FailOn;
  listRules: boolean;
  help: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const parse = () => {
    try {
      return parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          'task-def': { type: 'string', multiple: true },
          cluster: { type: 'string' },
          service: { type: 'string', multiple: true },
          region: { type: 'string' },
          format: { type: 'string' },
          'fail-on': { type: 'string' },
          'list-rules': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const { values, positionals } = parse();
  const help = values.help === true;
  const [command, ...extra] = positionals;
  if (!help && command !== 'audit')
    throw new UsageError(command === undefined ? 'missing command: audit' : `unknown command "${command}": the only command is audit`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const format = values.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
  const failOn = values['fail-on'] ?? 'high';
  if (failOn !== 'none' && !(SEVERITIES as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on: expected one of ${SEVERITIES.join(', ')} or none, got "${failOn}"`);
  }
  const options: Options = {
    taskDefs: values['task-def'] ?? [],
    cluster: values.cluster,
    services: values.service ?? [],
    region: values.region,
    format: format as Format,
    failOn: failOn as FailOn,
    listRules: values['list-rules'] === true,
    help,
  };
  if (help || options.listRules) return options;
  if (options.taskDefs.length > 0 && options.cluster !== undefined) throw new UsageError('use either --task-def or --cluster, not both');
  if (options.taskDefs.length === 0 && options.cluster === undefined) throw new UsageError('nothing to audit: give --task-def <file.json> or --cluster <name>');
  if (options.services.length > 0 && options.cluster === undefined) throw new UsageError('--service needs --cluster');
  if (options.region !== undefined && options.cluster === undefined) throw new UsageError('--region is only used with --cluster');
  return options;
}

function listRules(format: Format): string {
  if (format === 'json') return `${JSON.stringify(RULES, null, 2)}\n`;
  const idWidth = Math.max(...RULES.map((r) => r.id.length));
  const lines = RULES.map((r) => `${r.id.padEnd(idWidth)}  ${r.severity.padEnd(8)}  ${r.title}\n${' '.repeat(idWidth + 2)}${r.source}`);
  return `${lines.join('\n')}\n`;
}

/** File paths for reports: relative to the working directory, '/'-separated, like a repository path. */
function displayPath(file: string, cwd: string): string {
  const abs = resolve(cwd, file);
  const rel = relative(cwd, abs);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return (inside ? rel : abs).split(sep).join('/');
}

async function loadFiles(files: readonly string[], cwd: string): Promise<LoadedTaskDefinition[]> {
  const loaded: LoadedTaskDefinition[] = [];
  const problems: string[] = [];
  // Every file is read, so that one run lists every broken file.
  for (const file of files) {
    try {
      loaded.push(await loadTaskDefinitionFile(resolve(cwd, file)));
    } catch (error) {
      if (!(error instanceof TaskDefinitionFileError)) throw error;
      const shown = displayPath(file, cwd);
      problems.push(...error.problems.map((p) => (p.startsWith(error.file) ? shown + p.slice(error.file.length) : p)));
    }
  }
  if (problems.length > 0) throw new TaskDefinitionFileError(files.join(', '), problems);
  return loaded;
}

function regionFrom(options: Options, env: NodeJS.ProcessEnv): string {
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('--cluster needs a region: pass --region or set AWS_REGION');
  return region;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`ecs-caretaker audit: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (options.listRules) {
    io.stdout.write(listRules(options.format));
    return 0;
  }

  let input: AuditInput;
  let locate: ReportOptions['locate'];
  try {
    if (options.cluster !== undefined) {
      const region = io.clients?.ecs && io.clients.elbv2 ? undefined : regionFrom(options, io.env);
      // Only the clients built here are ours to close; open keep-alive sockets would hold the process.
      const own: Array<{ destroy(): void }> = [];
      const build = <C extends { destroy(): void }>(client: C): C => {
        own.push(client);
        return client;
      };
      try {
        const ecs = io.clients?.ecs ?? build(new ECSClient({ region }));
        const elbv2 = io.clients?.elbv2 ?? elbv2Reader(build(new ElasticLoadBalancingV2Client({ region })));
        const { input: live, notes } = await collectLive({ ecs, elbv2 }, { cluster: options.cluster, services: options.services });
        for (const note of notes) io.stderr.write(`note: ${note}\n`);
        input = live;
      } finally {
        for (const client of own) client.destroy();
      }
    } else {
      const files = await loadFiles(options.taskDefs, cwd);
      input = { taskDefinitions: files.map((f) => f.taskDefinition), checkKeys: checkTaskDefinitionKeys };
      locate = (finding: Finding): SourceLocation | undefined => {
        if (!finding.location) return undefined;
        const file = files[finding.location.taskDefinition];
        const at = file && positionInFile(file, finding.location.path);
        return file && at ? { uri: displayPath(file.file, cwd), line: at.line, column: at.column } : undefined;
      };
    }
  } catch (error) {
    if (error instanceof TaskDefinitionFileError) {
      io.stderr.write(`ecs-caretaker audit: invalid task definition file\n  ${error.problems.join('\n  ')}\n`);
      return 2;
    }
    if (error instanceof LiveAuditError || error instanceof UsageError) {
      io.stderr.write(`ecs-caretaker audit: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const findings = audit(input);
  const report: ReportOptions = { failOn: options.failOn, locate };
  const render = options.format === 'json' ? renderJson : options.format === 'sarif' ? renderSarif : renderTable;
  io.stdout.write(render(findings, report));
  return findings.some((f) => isFailing(f, options.failOn)) ? 1 : 0;
}
