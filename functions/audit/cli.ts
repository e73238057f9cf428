/**
 * `ecs-caretaker audit`: runs the rules on local files (task definitions,
 * CloudFormation templates, Terraform plans, AWS CLI describe output; see
 * sources.ts) or on a live cluster, drops what --ignore, the files' own
 * suppressions or a baseline switch off, and prints the rest. Everything it
 * touches comes in through `main`'s arguments, so tests run it in-process.
 *
 * The AWS SDK and the file parsers are imported only by the mode that needs
 * them: --help and file audits never pay for the SDK.
 *
 * Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 a usage
 * or input error (bad flag, unreadable or invalid file, AWS call refused); an
 * unreadable file among readable ones still gives 2, after the others are
 * reported.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LiveClients } from './live.ts';
import {
  fingerprint,
  isFailing,
  messageLine,
  renderJson,
  renderSarif,
  renderTable,
  type FailOn,
  type InputMessage,
  type ReportOptions,
  type SourceLocation,
  type Suppressed,
} from './report.ts';
import { SEVERITIES } from '../shared/severity.ts';
import { audit, RULES, type Finding, type RuleId } from './rules.ts';
import type { AuditUnit } from './sources.ts';

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
  ecs-caretaker audit <file|glob>... [options]
  ecs-caretaker audit --cluster <name> [--service <name> ...] [--region <region>] [options]
  ecs-caretaker audit --list-rules [--format table|json]

Audits ECS task definitions, services and target groups for configuration that
looks harmless but slows deployments, stalls drains or gets healthy tasks killed.

Files (JSON unless named .yaml/.yml/.template), any mix, globs expanded here too:
  task definitions       register-task-definition input or describe-task-definition output
  CloudFormation         templates with AWS::ECS::TaskDefinition, AWS::ECS::Service and
                         AWS::ElasticLoadBalancingV2::TargetGroup (Ref, GetAtt and Sub resolved)
  Terraform plan         terraform show -json <planfile>: aws_ecs_task_definition, aws_ecs_service,
                         aws_lb_target_group, linked through the plan's references
  AWS CLI output         aws ecs describe-services, aws elbv2 describe-target-groups and
                         describe-target-group-attributes (name that file <TargetGroupName>.*.json
                         when the run has several target groups)
A file that cannot be read is reported as an error; the others are still audited.

Options:
  --task-def <file>      a file to audit, like a positional argument; repeat for several
  --cluster <name>       audit the services of a live cluster, their task definitions
                         and target groups (needs AWS credentials, read-only calls)
  --service <name>       only this service of --cluster; repeat for several
  --region <region>      AWS region for --cluster (default: AWS_REGION, AWS_DEFAULT_REGION)
  --format <format>      table (default), json or sarif (SARIF 2.1.0 for code scanning)
  --fail-on <severity>   exit 1 when a finding is at or above it: info, low, medium,
                         high (default), critical, or none to never fail
  --ignore <rule>        do not report this rule; repeat, or separate with commas
  --baseline <file>      do not report findings recorded in this baseline file
  --write-baseline <file>  record every finding of this run in a baseline file, exit 0
  --list-rules           print the rules, their severity and source, and exit
  -h, --help             print this help

In a CloudFormation template a resource can switch rules off for itself:
  Metadata: { ecs-caretaker: { ignore: [stop-timeout-long] } }

Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error
(an unreadable file among others still gives 2, after the others are reported).
`;

const FORMATS = ['table', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

class UsageError extends Error {}

interface Options {
  files: string[];
  cluster?: string;
  services: string[];
  region?: string;
  format: Format;
  failOn: FailOn;
  ignore: Set<RuleId>;
  baseline?: string;
  writeBaseline?: string;
  listRules: boolean;
  help: boolean;
}

const RULE_IDS = new Set<string>(RULES.map((r) => r.id));

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
          ignore: { type: 'string', multiple: true },
          baseline: { type: 'string' },
          'write-baseline': { type: 'string' },
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
  const [command, ...files] = positionals;
  if (!help && command !== 'audit')
    throw new UsageError(command === undefined ? 'missing command: audit' : `unknown command "${command}": the only command is audit`);

  const format = values.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
  const failOn = values['fail-on'] ?? 'high';
  if (failOn !== 'none' && !(SEVERITIES as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on: expected one of ${SEVERITIES.join(', ')} or none, got "${failOn}"`);
  }
  const ignore = new Set<RuleId>();
  for (const rule of (values.ignore ?? []).flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (!RULE_IDS.has(rule)) throw new UsageError(`--ignore: unknown rule "${rule}" (ecs-caretaker audit --list-rules prints them)`);
    ignore.add(rule as RuleId);
  }
  const options: Options = {
    files: [...(values['task-def'] ?? []), ...files],
    cluster: values.cluster,
    services: values.service ?? [],
    region: values.region,
    format: format as Format,
    failOn: failOn as FailOn,
    ignore,
    baseline: values.baseline,
    writeBaseline: values['write-baseline'],
    listRules: values['list-rules'] === true,
    help,
  };
  if (help || options.listRules) return options;
  if (options.files.length > 0 && options.cluster !== undefined) throw new UsageError('use either files or --cluster, not both');
  if (options.files.length === 0 && options.cluster === undefined)
    throw new UsageError('nothing to audit: give files (task definitions, templates, AWS CLI output) or --cluster <name>');
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

/** A baseline: the fingerprints of accepted findings, with enough beside each for a reviewer to read the file. */
interface BaselineEntry {
  fingerprint: string;
  rule: string;
  resource: string;
  file?: string;
}
const BASELINE_VERSION = 1;

async function readBaseline(file: string, cwd: string): Promise<Set<string>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(resolve(cwd, file), 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(`--baseline ${file}: ${e.code === 'ENOENT' ? 'no such file (create it with --write-baseline)' : e.message}`);
  }
  const findings = (data as { version?: unknown; findings?: unknown })?.findings;
  if ((data as { version?: unknown })?.version !== BASELINE_VERSION || !Array.isArray(findings)) {
    throw new UsageError(`--baseline ${file}: expected {"version": ${BASELINE_VERSION}, "findings": [...]}, as --write-baseline writes`);
  }
  const out = new Set<string>();
  findings.forEach((f: { fingerprint?: unknown }, i) => {
    if (typeof f?.fingerprint !== 'string') throw new UsageError(`--baseline ${file}: findings[${i}].fingerprint: expected a string`);
    out.add(f.fingerprint);
  });
  return out;
}

function baselineText(findings: ReadonlyArray<{ finding: Finding; where?: SourceLocation }>): string {
  const entries: BaselineEntry[] = findings.map(({ finding, where }) => ({
    fingerprint: fingerprint(finding, where),
    rule: finding.rule,
    resource: finding.resource,
    ...(where ? { file: where.uri } : {}),
  }));
  // Sorted, so that re-writing an unchanged baseline gives no diff.
  entries.sort((a, b) => ((a.file ?? '') + a.rule + a.resource + a.fingerprint < (b.file ?? '') + b.rule + b.resource + b.fingerprint ? -1 : 1));
  return `${JSON.stringify({ version: BASELINE_VERSION, tool: 'ecs-caretaker audit', findings: entries }, null, 2)}\n`;
}

function regionFrom(options: Options, env: NodeJS.ProcessEnv): string {
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('--cluster needs a region: pass --region or set AWS_REGION');
  return region;
}

/** The live path loads the AWS SDK, which alone takes most of a second: only --cluster pays for it. */
async function liveUnit(options: Options, io: CliIo): Promise<AuditUnit> {
  const { collectLive, LiveAuditError } = await import('./live.ts');
  const region = io.clients?.ecs && io.clients.elbv2 ? undefined : regionFrom(options, io.env);
  // Only the clients built here are ours to close; open keep-alive sockets would hold the process.
  const own: Array<{ destroy(): void }> = [];
  try {
    let ecs = io.clients?.ecs;
    if (!ecs) {
      const { ECSClient } = await import('@aws-sdk/client-ecs');
      ecs = new ECSClient({ region });
      own.push(ecs);
    }
    let elbv2 = io.clients?.elbv2;
    if (!elbv2) {
      const [{ ElasticLoadBalancingV2Client }, { elbv2Reader }] = await Promise.all([
        import('@aws-sdk/client-elastic-load-balancing-v2'),
        import('./elbv2.ts'),
      ]);
      const client = new ElasticLoadBalancingV2Client({ region });
      own.push(client);
      elbv2 = elbv2Reader(client);
    }
    const { input, notes } = await collectLive({ ecs, elbv2 }, { cluster: options.cluster!, services: options.services });
    for (const note of notes) io.stderr.write(`note: ${note}\n`);
    return { input, locate: () => undefined, ignoredInline: () => false };
  } catch (error) {
    if (error instanceof LiveAuditError) throw new UsageError(error.message);
    throw error;
  } finally {
    for (const client of own) client.destroy();
  }
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

  let units: AuditUnit[];
  const errors: InputMessage[] = [];
  const notes: InputMessage[] = [];
  let baseline: Set<string> | undefined;
  try {
    if (options.baseline !== undefined) baseline = await readBaseline(options.baseline, cwd);
    if (options.cluster !== undefined) {
      units = [await liveUnit(options, io)];
    } else {
      // The parsers (YAML, zod schemas, globbing) are only for file runs: --help and --list-rules stay light.
      const { expandArguments, loadSources } = await import('./sources.ts');
      const expanded = await expandArguments(options.files, cwd);
      const loaded = await loadSources(expanded.files, cwd);
      errors.push(...expanded.errors, ...loaded.errors);
      notes.push(...loaded.notes);
      units = loaded.units;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`ecs-caretaker audit: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const suppressed: Suppressed = { ignored: 0, inline: 0, baseline: 0 };
  // What a baseline written now records: every finding not switched off for good, including those the old baseline hides.
  const accepted: Array<{ finding: Finding; where?: SourceLocation }> = [];
  const kept: Array<{ finding: Finding; where?: SourceLocation }> = [];
  for (const unit of units) {
    for (const finding of audit(unit.input)) {
      const where = unit.locate(finding);
      if (options.ignore.has(finding.rule)) suppressed.ignored++;
      else if (unit.ignoredInline(finding)) suppressed.inline++;
      else {
        accepted.push({ finding, where });
        if (baseline?.has(fingerprint(finding, where))) suppressed.baseline++;
        else kept.push({ finding, where });
      }
    }
  }

  for (const note of notes) io.stderr.write(`note: ${messageLine(note)}\n`);
  if (errors.length > 0) {
    const files = new Set(errors.map((e) => e.uri)).size;
    io.stderr.write(`ecs-caretaker audit: ${files} file${files === 1 ? '' : 's'} not audited\n  ${errors.map(messageLine).join('\n  ')}\n`);
  }
  if (options.writeBaseline !== undefined) {
    await writeFile(resolve(cwd, options.writeBaseline), baselineText(accepted));
    io.stderr.write(`wrote ${accepted.length} finding${accepted.length === 1 ? '' : 's'} to ${options.writeBaseline}\n`);
  }

  const locations = new Map(kept.map((k) => [k.finding, k.where]));
  const findings = kept.map((k) => k.finding);
  const report: ReportOptions = { failOn: options.failOn, locate: (f) => locations.get(f), errors, notes, suppressed };
  const render = options.format === 'json' ? renderJson : options.format === 'sarif' ? renderSarif : renderTable;
  io.stdout.write(render(findings, report));
  if (errors.length > 0) return 2;
  if (options.writeBaseline !== undefined) return 0;
  return findings.some((f) => isFailing(f, options.failOn)) ? 1 : 0;
}
