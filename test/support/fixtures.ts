import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The fixtures live in the repository (test/fixtures, sources in its SOURCES.md files), so a
// clone with nothing beside it runs every test.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const awsEventsDir = join(fixturesDir, 'aws-events');

/** Every real AWS payload, by file name. They are read, never edited. */
export function loadAwsEvents(): Map<string, unknown> {
  const events = new Map<string, unknown>();
  for (const file of readdirSync(awsEventsDir).sort()) {
    if (file.endsWith('.json')) events.set(file, JSON.parse(readFileSync(join(awsEventsDir, file), 'utf8')));
  }
  return events;
}

export function loadAwsEvent<T = any>(file: string): T {
  return JSON.parse(readFileSync(join(awsEventsDir, file), 'utf8')) as T;
}

/** One real stop reason: `field` says where AWS puts it (stoppedReason, containers[].reason, ...). */
export interface StoppedReasonSample {
  text: string;
  field: string;
  category: string;
  source: string;
  note?: string;
}

export function loadStoppedReasons(): StoppedReasonSample[] {
  return JSON.parse(readFileSync(join(fixturesDir, 'stopped-reasons-sample.json'), 'utf8')) as StoppedReasonSample[];
}

/** One string of the public stop-reason corpus (test/fixtures/stop-reasons, sources in its SOURCES.md). */
export interface CorpusEntry extends StoppedReasonSample {
  /** Decided by a hash of the text before any rule was tuned: rules are written against 'train' only. */
  split: 'train' | 'heldout';
}

export function loadStopReasonCorpus(): CorpusEntry[] {
  return JSON.parse(readFileSync(join(fixturesDir, 'stop-reasons', 'corpus.json'), 'utf8')) as CorpusEntry[];
}

export const auditCorpusDir = join(fixturesDir, 'audit-corpus');

/** One file of the public task-definition corpus (test/fixtures/audit-corpus, sources in its SOURCES.md). */
export interface AuditCorpusFile {
  file: string;
  /** The parsed file, as its author wrote it (register-task-definition input or describe-task-definition output). */
  json: unknown;
  split: 'train' | 'heldout';
}

/**
 * About a third of the files are held out, chosen by the SHA-256 of the file name so that
 * adding a file never moves another one between parts, and nobody picks which files are easy.
 */
export function auditCorpusSplit(file: string): 'train' | 'heldout' {
  return createHash('sha256').update(file).digest()[0]! % 3 === 0 ? 'heldout' : 'train';
}

export function loadAuditCorpus(): AuditCorpusFile[] {
  return readdirSync(auditCorpusDir)
    .filter((f) => f.endsWith('.json') && f !== 'labels.json')
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(auditCorpusDir, file), 'utf8')) as unknown, split: auditCorpusSplit(file) }));
}
