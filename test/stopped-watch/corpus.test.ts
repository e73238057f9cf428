import { createHash } from 'node:crypto';
import { TaskStopCode } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, HINTS, SEVERITY, STOP_CODES, classifyReason, type Category } from '../../functions/stopped-watch/classify.ts';
import { type CorpusEntry, loadStopReasonCorpus } from '../support/fixtures.ts';

// The public corpus (test/fixtures/stop-reasons/corpus.json). Every string is a
// test case: a training string must be classified exactly; the held-out part
// is judged as a whole (at least 95 %), and every held-out miss is listed in
// the failure message and in the test name of the report below, so a miss is
// visible without the rules being tuned to it.

const corpus = loadStopReasonCorpus();
const train = corpus.filter((e) => e.split === 'train');
const heldout = corpus.filter((e) => e.split === 'heldout');

function classify(e: CorpusEntry) {
  return classifyReason(e.text, { field: e.field });
}

const NO_HINT: ReadonlySet<Category> = new Set(['deployment-benign', 'user-stop', 'autoscaling', 'unknown']);

/**
 * Training strings whose text carries the evidence of another category than
 * the one its thread established: a registry answers "403"/"access denied"
 * for a digest or repository that does not exist. The classifier may answer
 * the category the text shows, with a hint that names both causes.
 */
const AMBIGUOUS: ReadonlyMap<string, Category> = new Map([
  [
    'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref .dkr.ecr.us-west-2.amazonaws.com/otel-collector',
    'image-pull-auth',
  ],
  ['CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref docker.io/library/sha256:', 'image-pull-auth'],
]);

function allowedAlternative(e: CorpusEntry): Category | undefined {
  for (const [prefix, alt] of AMBIGUOUS) if (e.text.startsWith(prefix)) return alt;
  return undefined;
}

describe('the stop-reason corpus', () => {
  it('is well-formed: distinct texts, known categories, a source for each, a split by hash', () => {
    expect(new Set(corpus.map((e) => e.text)).size).toBe(corpus.length);
    for (const e of corpus) {
      expect(CATEGORIES).toContain(e.category);
      expect(e.source).toMatch(/^https:\/\//);
      expect(['train', 'heldout']).toContain(e.split);
    }
    expect(heldout.length).toBeGreaterThan(0);
    expect(train.length).toBeGreaterThan(heldout.length);
  });

  it('splits by the hash of the text (first SHA-256 byte mod 10 < 3 is held-out), so no string was placed by hand', () => {
    for (const e of corpus) expect(e.split, e.text).toBe(createHash('sha256').update(e.text).digest()[0]! % 10 < 3 ? 'heldout' : 'train');
  });

  it('pins GitHub repository files to a commit', () => {
    for (const e of corpus.filter((e) => /github\.com\/[^/]+\/[^/]+\/blob\//.test(e.source))) {
      expect(e.source, e.text).toMatch(/\/blob\/[0-9a-f]{40}\//);
    }
  });

  describe('training strings, each', () => {
    it.each(train.map((e) => [e.category, e.field, e.text.slice(0, 160), e] as const))('%s <- %s: %s', (category, _field, _text, e) => {
      const c = classify(e);
      const alt = allowedAlternative(e);
      if (alt !== undefined && c.category === alt) {
        expect(c.hint, 'an ambiguous answer names the other cause').toMatch(/does not exist|not exist|image` reference|name/);
        return;
      }
      expect(c.category).toBe(category);
      expect(c.severity).toBe(SEVERITY[c.category]);
      if (!NO_HINT.has(c.category)) expect(c.hint, 'every actionable category has a hint').toBeTruthy();
    });
  });

  it('held-out strings: at least 95 % right, misses listed', () => {
    const misses = heldout
      .map((e) => ({ e, got: classify(e).category }))
      .filter(({ e, got }) => got !== e.category)
      .map(({ e, got }) => `${e.category} <- ${got}: ${e.text.slice(0, 200)}`);
    const accuracy = (heldout.length - misses.length) / heldout.length;
    expect(accuracy, `held-out misses (${misses.length}/${heldout.length}):\n${misses.join('\n')}`).toBeGreaterThanOrEqual(0.95);
  });
});

describe('stop codes', () => {
  it('every TaskStopCode of the pinned SDK has a category', () => {
    for (const code of Object.values(TaskStopCode)) {
      expect(STOP_CODES[code], code).toBeDefined();
      const c = classifyReason(code, { field: 'stopCode', stopCode: code });
      expect(c.category, code).not.toBe('unknown');
    }
  });

  it('InfrastructureHealth is an AWS-side replacement with its own hint', () => {
    const c = classifyReason('', { stopCode: 'InfrastructureHealth' });
    expect(c.category).toBe('maintenance');
    expect(c.hint).toMatch(/infrastructure/);
  });
});

describe('families fall back to their own category, never task-failed-to-start', () => {
  it.each([
    ['resource-init-other', 'ResourceInitializationError: a wording nobody has seen yet'],
    ['image-pull-unknown', 'CannotPullContainerError: a wording nobody has seen yet'],
    ['container-start-error', 'CannotStartContainerError: a wording nobody has seen yet'],
    ['container-create-error', 'CannotCreateContainerError: a wording nobody has seen yet'],
    ['agent', 'CannotInspectContainerError: a wording nobody has seen yet'],
    ['agent', 'ContainerRuntimeTimeoutError: a wording nobody has seen yet'],
  ] as const)('%s <- %s', (category, text) => {
    const c = classifyReason(text);
    expect(c.category).toBe(category);
    expect(c.severity).toBe(SEVERITY[category]);
    expect(c.severity).not.toBe('info');
    expect(c.hint).toBe(HINTS[category]);
  });

  it('an executable missing from $PATH is not a CPU architecture problem', () => {
    const c = classifyReason(
      'CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "gunicorn": executable file not found in $PATH: unknown',
    );
    expect(c.category).toBe('command-not-found');
    expect(c.hint).toMatch(/\$PATH/);
    expect(c.hint).not.toMatch(/multi-arch/i);
    expect(classifyReason('exec /app/server: exec format error').category).toBe('exec-format');
  });
});
