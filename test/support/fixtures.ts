import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// CI clones the repo with ../shared beside it; SHARED_DIR lets a developer point elsewhere.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.SHARED_DIR ?? resolve(repoRoot, '..', 'shared');
export const awsEventsDir = join(sharedDir, 'aws-events');

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
  return JSON.parse(readFileSync(join(sharedDir, 'stopped-reasons-sample.json'), 'utf8')) as StoppedReasonSample[];
}
