/**
 * Findings as text: a table for people, JSON for scripts, SARIF 2.1.0 for
 * code-scanning dashboards (GitHub code scanning and other SARIF consumers).
 */
import { createHash } from 'node:crypto';
import { severityRank, type Severity } from '../shared/severity.ts';
import { RULES, ruleDoc, type Finding } from './rules.ts';

export type FailOn = Severity | 'none';

/** A finding's place in a source file, when it came from one. */
export interface SourceLocation {
  /** Relative to the working directory, '/'-separated (SARIF artifactLocation.uri). */
  uri: string;
  line: number;
  column: number;
}

/** An input file that could not be audited (error), or something about one the reader should know (note). */
export interface InputMessage {
  uri: string;
  line?: number;
  column?: number;
  message: string;
}

/** Findings left out of the report, by what switched them off. */
export interface Suppressed {
  ignored: number;
  inline: number;
  baseline: number;
}

export interface ReportOptions {
  failOn: FailOn;
  locate?: (finding: Finding) => SourceLocation | undefined;
  /** Files that were not audited; the report still lists the findings of the others. */
  errors?: readonly InputMessage[];
  notes?: readonly InputMessage[];
  suppressed?: Suppressed;
}

export const messageLine = (m: InputMessage): string => `${m.uri}${m.line === undefined ? '' : `:${m.line}:${m.column ?? 1}`}: ${m.message}`;

/**
 * What identifies a finding across runs: rule, resource, the path inside it,
 * and the file, so that two files declaring the same family stay two alerts.
 * Never the line, so an edit above it keeps the alert. A live finding has no
 * file and keeps the fingerprint it always had.
 */
export function fingerprint(f: Finding, where: SourceLocation | undefined): string {
  const base = `${f.rule}\n${f.resource}\n${f.location?.path ?? ''}`;
  return createHash('sha256')
    .update(where ? `${base}\n${where.uri}` : base)
    .digest('hex');
}

export const isFailing = (f: Finding, failOn: FailOn): boolean => failOn !== 'none' && severityRank(f.severity) >= severityRank(failOn);

/** Most severe first, then by resource, so one resource's findings stay together. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const order = new Map(RULES.map((r, i) => [r.id, i]));
  return [...findings].sort(
    // Code-unit order, not localeCompare: the same input must give the same report on every machine.
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0) ||
      order.get(a.rule)! - order.get(b.rule)!,
  );
}

function summary(findings: readonly Finding[], failOn: FailOn): { total: number; bySeverity: Record<Severity, number>; failing: number } {
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) bySeverity[f.severity]++;
  return { total: findings.length, bySeverity, failing: findings.filter((f) => isFailing(f, failOn)).length };
}

function suppressedLine(s: Suppressed | undefined): string {
  if (!s) return '';
  const parts = [
    s.ignored > 0 ? `${s.ignored} by --ignore` : '',
    s.inline > 0 ? `${s.inline} by the files' own suppressions` : '',
    s.baseline > 0 ? `${s.baseline} by the baseline` : '',
  ].filter(Boolean);
  return parts.length === 0 ? '' : `Not shown: ${parts.join(', ')}.`;
}

export function renderTable(findings: readonly Finding[], options: ReportOptions): string {
  const sorted = sortFindings(findings);
  const s = summary(sorted, options.failOn);
  if (sorted.length === 0) return `No findings.${suppressedLine(options.suppressed) ? ` ${suppressedLine(options.suppressed)}` : ''}\n`;
  const sevWidth = Math.max(8, ...sorted.map((f) => f.severity.length));
  const ruleWidth = Math.max(4, ...sorted.map((f) => f.rule.length));
  const pad = ' '.repeat(sevWidth + 2);
  const lines = [`${'SEVERITY'.padEnd(sevWidth)}  ${'RULE'.padEnd(ruleWidth)}  RESOURCE`];
  for (const f of sorted) {
    const where = options.locate?.(f);
    lines.push(`${f.severity.padEnd(sevWidth)}  ${f.rule.padEnd(ruleWidth)}  ${f.resource}${where ? `  (${where.uri}:${where.line}:${where.column})` : ''}`);
    lines.push(`${pad}${f.evidence}`);
    lines.push(`${pad}fix: ${f.fix}`);
  }
  const counts = (Object.keys(s.bySeverity) as Severity[]).filter((k) => s.bySeverity[k] > 0).map((k) => `${s.bySeverity[k]} ${k}`);
  lines.push('');
  lines.push(`${s.total} finding${s.total === 1 ? '' : 's'}: ${counts.join(', ')}.`);
  if (options.failOn !== 'none') lines.push(`${s.failing} at or above --fail-on ${options.failOn}.`);
  const quiet = suppressedLine(options.suppressed);
  if (quiet) lines.push(quiet);
  return `${lines.join('\n')}\n`;
}

export function renderJson(findings: readonly Finding[], options: ReportOptions): string {
  const sorted = sortFindings(findings);
  const out = {
    findings: sorted.map((f) => {
      const doc = ruleDoc(f.rule);
      const where = options.locate?.(f);
      return {
        rule: f.rule,
        severity: f.severity,
        title: doc.title,
        resource: f.resource,
        evidence: f.evidence,
        fix: f.fix,
        source: doc.source,
        ...(where ? { file: where.uri, line: where.line, column: where.column } : {}),
        fingerprint: fingerprint(f, where),
      };
    }),
    errors: options.errors ?? [],
    notes: options.notes ?? [],
    summary: { ...summary(sorted, options.failOn), failOn: options.failOn, suppressed: options.suppressed ?? { ignored: 0, inline: 0, baseline: 0 } },
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

// SARIF result.level allows none, note, warning and error (SARIF 2.1.0, result object); five severities fold into three.
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
export const TOOL_NAME = 'ecs-caretaker audit';

/**
 * SARIF 2.1.0. Required by the spec: version, runs[].tool.driver.name and each
 * result's message. GitHub code scanning also wants a physical location with
 * a start line to show a result on a file, and uses partialFingerprints to
 * track one alert across runs; findings from live resources (no file) carry a
 * logical location only.
 */
export function renderSarif(findings: readonly Finding[], options: ReportOptions): string {
  const sorted = sortFindings(findings);
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            informationUri: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Welcome.html',
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: `${r.title} (applies to each ${r.appliesTo}).` },
              help: { text: `Trade-off: ${r.tradeOff}\nSource: ${r.source}` },
              helpUri: r.source,
              defaultConfiguration: { level: LEVEL[r.severity] },
              properties: { severity: r.severity, tags: ['ecs', r.appliesTo.replace(' ', '-')] },
            })),
          },
        },
        // SARIF's place for "this input could not be analysed": a consumer sees the run was partial, not clean.
        invocations: [
          {
            executionSuccessful: (options.errors ?? []).length === 0,
            toolExecutionNotifications: [
              ...(options.errors ?? []).map((m) => notification(m, 'error')),
              ...(options.notes ?? []).map((m) => notification(m, 'note')),
            ],
          },
        ],
        results: sorted.map((f) => {
          const where = options.locate?.(f);
          const path = f.location?.path ?? '';
          return {
            ruleId: f.rule,
            ruleIndex: ruleIndex.get(f.rule)!,
            level: LEVEL[f.severity],
            message: { text: `${f.evidence}. Fix: ${f.fix}.` },
            locations: [
              {
                ...(where ? { physicalLocation: { artifactLocation: { uri: where.uri }, region: { startLine: where.line, startColumn: where.column } } } : {}),
                logicalLocations: [{ fullyQualifiedName: path ? `${f.resource}/${path}` : f.resource, kind: 'resource' }],
              },
            ],
            partialFingerprints: { 'ecsCaretakerFinding/v1': fingerprint(f, where) },
            properties: { severity: f.severity },
          };
        }),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function notification(m: InputMessage, level: 'error' | 'note') {
  return {
    level,
    message: { text: m.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: m.uri },
          ...(m.line === undefined ? {} : { region: { startLine: m.line, startColumn: m.column ?? 1 } }),
        },
      },
    ],
  };
}
