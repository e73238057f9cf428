/**
 * Scores the audit against the labelled public corpus (test/fixtures/audit-corpus): every
 * finding the audit makes is labelled true or false positive with a reason, and the findings
 * an ECS expert expects but the audit does not make are listed as missed. Files are loaded as
 * the CLI loads them, so a file the CLI rejects is a load error, labelled as such.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { audit, type Finding } from '../../functions/audit/rules.ts';
import { parseTaskDefinitionFile } from '../../functions/audit/taskdef-file.ts';
import { checkTaskDefinitionKeys } from '../../functions/audit/taskdef-model.ts';
import { auditCorpusDir, loadAuditCorpus } from './fixtures.ts';

export interface LabelledFinding {
  rule: string;
  /** The container name, or null for a task-level finding. */
  container: string | null;
  verdict: 'tp' | 'fp';
  reason: string;
}

export interface FileLabels {
  /** Why the file cannot be registered as written, when the loader must reject it. */
  loadError?: string;
  findings: LabelledFinding[];
  /** What an expert flags that the audit does not; `rule` may name a rule that does not exist yet. */
  missed: Array<{ rule: string; container: string | null; reason: string }>;
  /** What an expert would mention that is neither a finding nor a miss (it depends on the deploy tool). */
  note?: string;
}

export const loadAuditLabels = (): Record<string, FileLabels> =>
  JSON.parse(readFileSync(join(auditCorpusDir, 'labels.json'), 'utf8')) as Record<string, FileLabels>;

export const findingKey = (rule: string, container: string | null): string => `${rule} ${container ?? '-'}`;
const containerOf = (f: Finding): string | null => /#container:(.*)$/.exec(f.resource)?.[1] ?? null;

export interface CorpusRun {
  file: string;
  split: 'train' | 'heldout';
  loadError?: string;
  findings: Finding[];
}

/** Audits every corpus file as the CLI would: load (and validate), then run the rules. */
export function runAuditCorpus(): CorpusRun[] {
  return loadAuditCorpus().map(({ file, split }) => {
    try {
      const loaded = parseTaskDefinitionFile(readFileSync(join(auditCorpusDir, file), 'utf8'), file);
      return { file, split, findings: audit({ taskDefinitions: [loaded.taskDefinition], checkKeys: checkTaskDefinitionKeys }) };
    } catch (error) {
      return { file, split, loadError: (error as Error).message, findings: [] };
    }
  });
}

export interface Score {
  files: number;
  findings: number;
  tp: number;
  fp: number;
  /** Labelled true positives the audit no longer makes, plus the labelled misses. */
  fn: number;
  /** False positives at or above `high`, the CLI's default --fail-on. */
  fpHigh: number;
  /** Findings without a label: counted as false positives, since nobody vouched for them. */
  unlabelled: string[];
  /** Labelled findings the audit did not make. */
  lost: string[];
  loadErrors: { expected: number; got: number; unexpected: string[] };
  precision: number;
  recall: number;
}

export function scoreAuditCorpus(runs: CorpusRun[], labels: Record<string, FileLabels>, split: 'train' | 'heldout'): Score {
  const s: Score = {
    files: 0,
    findings: 0,
    tp: 0,
    fp: 0,
    fn: 0,
    fpHigh: 0,
    unlabelled: [],
    lost: [],
    loadErrors: { expected: 0, got: 0, unexpected: [] },
    precision: 0,
    recall: 0,
  };
  for (const run of runs.filter((r) => r.split === split)) {
    const label = labels[run.file] ?? { findings: [], missed: [] };
    s.files++;
    if (label.loadError) s.loadErrors.expected++;
    if (run.loadError) s.loadErrors.got++;
    if (Boolean(run.loadError) !== Boolean(label.loadError))
      s.loadErrors.unexpected.push(`${run.file}: ${run.loadError ?? 'loaded, but labelled as a load error'}`);
    const byKey = new Map(label.findings.map((l) => [findingKey(l.rule, l.container), l]));
    const seen = new Set<string>();
    for (const f of run.findings) {
      const key = findingKey(f.rule, containerOf(f));
      // One label covers every finding of that rule on that container (a rule may point at several places).
      if (seen.has(key)) continue;
      seen.add(key);
      s.findings++;
      const l = byKey.get(key);
      if (!l) s.unlabelled.push(`${run.file}: ${key}`);
      if (l?.verdict === 'tp') s.tp++;
      else {
        s.fp++;
        if (f.severity === 'high') s.fpHigh++;
      }
    }
    for (const [key, l] of byKey) {
      if (seen.has(key)) continue;
      s.lost.push(`${run.file}: ${key}`);
      if (l.verdict === 'tp') s.fn++;
    }
    s.fn += label.missed.length;
  }
  s.precision = s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp);
  s.recall = s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn);
  return s;
}
