import * as z from 'zod/mini';
import { CLEANUP_EXIT_CODES, type CleanupReport } from './document-contract.ts';
import type { MetricRecord } from './metrics.ts';
import type { MetricName } from '../shared/metric-names.ts';

/**
 * Reading one invocation's result: the script's JSON report line, and what the
 * invocation as a whole means for an operator. Pure: the caller fetched the
 * invocation with GetCommandInvocation.
 */

/** GetCommandInvocation returns "The first 24,000 characters written by the plugin to stdout" (SSM API reference). */
export const STDOUT_LIMIT = 24_000;

/** What the script prints instead of the report when even the shortest full line would exceed 2,000 characters. */
export interface TruncatedReport {
  v: 1;
  instance: string;
  exitCode: number;
  status: string;
  errorCount: number;
  truncated: true;
}

export type ParsedOutput = { kind: 'report'; report: CleanupReport } | { kind: 'truncated'; line: TruncatedReport } | { kind: 'unparseable'; why: string };

const count = z.int().check(z.gte(0));
const bytes = z.nullable(z.number().check(z.gte(0)));

// Only the fields this function reads are checked; the rest of the line is kept as the script wrote it.
const reportShape = z.object({
  v: z.literal(1),
  instance: z.string(),
  dryRun: z.boolean(),
  exitCode: z.int(),
  status: z.string(),
  freeBytesAfter: bytes,
  reclaimedBytes: bytes,
  trimmedBytes: bytes,
  containers: z.object({ removed: count, wouldRemove: count }),
  volumes: z.object({ removed: count, wouldRemove: count }),
  errorCount: count,
});

const truncatedShape = z.object({
  v: z.literal(1),
  instance: z.string(),
  exitCode: z.int(),
  status: z.string(),
  errorCount: count,
  truncated: z.literal(true),
});

/** The report is the last non-empty line of stdout; anything before it is not ours (e.g. the agent's own notes). */
export function parseReportLine(stdout: string): ParsedOutput {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  const atLimit = stdout.length >= STDOUT_LIMIT;
  if (last === undefined) return { kind: 'unparseable', why: 'no output on stdout' };
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    return {
      kind: 'unparseable',
      why: atLimit
        ? `stdout reached GetCommandInvocation's ${STDOUT_LIMIT}-character limit and its last line is cut`
        : `the last line of stdout is not JSON: ${JSON.stringify(last.slice(0, 120))}`,
    };
  }
  const truncated = truncatedShape.safeParse(value);
  if (truncated.success) return { kind: 'truncated', line: truncated.data as TruncatedReport };
  const report = reportShape.safeParse(value);
  if (report.success) return { kind: 'report', report: value as CleanupReport };
  const problems = report.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { kind: 'unparseable', why: `the last line of stdout is not a cleanup report (${problems.join('; ')})` };
}

export type Outcome = 'succeeded' | 'failed' | 'undeliverable' | 'skipped';

export interface InvocationResult {
  status: string;
  statusDetails: string;
  responseCode: number;
  stdout: string;
}

export interface Classification {
  outcome: Outcome;
  /** Why, in a word: the script's status, or Run Command's when the script never ran. */
  reason: string;
  exitCode?: number;
  output: ParsedOutput | { kind: 'not-run' };
}

// The script's exit codes by meaning (its header, and CLEANUP_EXIT_CODES).
const EXIT_REASONS = new Map<number, string>([
  [CLEANUP_EXIT_CODES.ok, 'ok'],
  [CLEANUP_EXIT_CODES.internalError, 'internal-error'],
  [CLEANUP_EXIT_CODES.usage, 'usage'],
  [CLEANUP_EXIT_CODES.dockerUnresponsive, 'docker-unresponsive'],
  [CLEANUP_EXIT_CODES.introspectionUnavailable, 'introspection-unavailable'],
  [CLEANUP_EXIT_CODES.cleanupErrors, 'cleanup-errors'],
  [CLEANUP_EXIT_CODES.lowSpace, 'low-space'],
  [CLEANUP_EXIT_CODES.locked, 'locked'],
  [CLEANUP_EXIT_CODES.deadline, 'deadline'],
  [CLEANUP_EXIT_CODES.spaceUnmeasured, 'space-unmeasured'],
  [129, 'terminated'],
  [130, 'terminated'],
  [143, 'terminated'],
]);

/**
 * Not reached: the agent never ran the script. Undeliverable and
 * InvalidPlatform are the instance's fault, not the cleanup's; a delivery
 * timeout means the agent was offline for the whole delivery window. None of
 * them count against MaxErrors either (GetCommandInvocation StatusDetails).
 */
const NOT_REACHED = new Set(['Undeliverable', 'InvalidPlatform', 'DeliveryTimedOut']);
/** Not run on purpose: MaxErrors stopped the command (Terminated), or someone cancelled it. */
const NOT_RUN = new Set(['Terminated', 'Cancelled']);

export function classifyInvocation(invocation: InvocationResult): Classification {
  const details = invocation.statusDetails || invocation.status;
  if (NOT_REACHED.has(details)) return { outcome: 'undeliverable', reason: details, output: { kind: 'not-run' } };
  if (NOT_RUN.has(details)) return { outcome: 'skipped', reason: details, output: { kind: 'not-run' } };

  const output = parseReportLine(invocation.stdout);
  const fromLine = output.kind === 'report' ? output.report.exitCode : output.kind === 'truncated' ? output.line.exitCode : undefined;
  // -1: "the command hasn't started running on the managed node" (GetCommandInvocation ResponseCode).
  const exitCode = fromLine ?? (invocation.responseCode >= 0 ? invocation.responseCode : undefined);

  if (details === 'ExecutionTimedOut' || invocation.status === 'TimedOut') return { outcome: 'failed', reason: 'execution-timed-out', exitCode, output };
  if (exitCode === undefined) {
    return details === 'Success' ? { outcome: 'succeeded', reason: 'ok', output } : { outcome: 'failed', reason: details || 'unknown', output };
  }
  const reason = EXIT_REASONS.get(exitCode) ?? `exit-${exitCode}`;
  if (exitCode === CLEANUP_EXIT_CODES.ok) return { outcome: 'succeeded', reason, exitCode, output };
  // Another run holds the instance's lock: that run does the work, this one did nothing wrong.
  if (exitCode === CLEANUP_EXIT_CODES.locked) return { outcome: 'skipped', reason, exitCode, output };
  return { outcome: 'failed', reason, exitCode, output };
}

const OUTCOME_METRIC: Record<Outcome, MetricName> = {
  succeeded: 'CleanupSucceeded',
  failed: 'CleanupFailed',
  undeliverable: 'CleanupUndeliverable',
  skipped: 'CleanupSkipped',
};

/**
 * The record published for one invocation: counted per cluster and per
 * instance (two dimension sets; an instance id is unique on its own). Byte and
 * removal figures come only from a full report of a real run; a dry run
 * publishes what it would have removed instead.
 */
export function invocationMetrics(opts: { cluster: string; instanceId: string; commandId: string; classification: Classification }): MetricRecord {
  const { classification: c } = opts;
  const values: MetricRecord['values'] = [{ name: OUTCOME_METRIC[c.outcome], unit: 'Count', value: 1 }];
  if (c.reason === 'low-space') values.push({ name: 'LowSpaceAfterCleanup', unit: 'Count', value: 1 });
  if (c.output.kind === 'unparseable') values.push({ name: 'ReportUnparseable', unit: 'Count', value: 1 });
  if (c.output.kind === 'truncated') values.push({ name: 'ReportTruncated', unit: 'Count', value: 1 });
  if (c.output.kind === 'report') {
    const r = c.output.report;
    if (r.dryRun) {
      values.push(
        { name: 'ContainersWouldRemove', unit: 'Count', value: r.containers.wouldRemove },
        { name: 'VolumesWouldRemove', unit: 'Count', value: r.volumes.wouldRemove },
      );
    } else {
      if (r.reclaimedBytes !== null) values.push({ name: 'ReclaimedBytes', unit: 'Bytes', value: r.reclaimedBytes });
      if (r.trimmedBytes !== null) values.push({ name: 'TrimmedBytes', unit: 'Bytes', value: r.trimmedBytes });
      if (r.freeBytesAfter !== null) values.push({ name: 'FreeBytesAfter', unit: 'Bytes', value: r.freeBytesAfter });
      values.push(
        { name: 'ContainersRemoved', unit: 'Count', value: r.containers.removed },
        { name: 'VolumesRemoved', unit: 'Count', value: r.volumes.removed },
      );
    }
  }
  return {
    dimensionSets: [{ Cluster: opts.cluster }, { InstanceId: opts.instanceId }],
    values,
    metadata: { commandId: opts.commandId, reason: c.reason },
  };
}
