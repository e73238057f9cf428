/**
 * stopped-watch classifier against the public stop-reason corpus
 * (test/fixtures/stop-reasons/corpus.json): accuracy on the training and the
 * held-out part, the most common confusions, and throughput over the corpus.
 * Part of `npm run bench`; alone: `npm run bench:corpus` (prints, writes nothing).
 */
import { pathToFileURL } from 'node:url';
import { classifyReason } from '../functions/stopped-watch/classify.ts';
import { loadStopReasonCorpus, type CorpusEntry } from '../test/support/fixtures.ts';

interface Part {
  size: number;
  right: number;
  misses: Array<{ entry: CorpusEntry; got: string }>;
}

const classify = (e: CorpusEntry) => classifyReason(e.text, { field: e.field });

export function corpusAccuracy(corpus = loadStopReasonCorpus()): Record<'train' | 'heldout', Part> {
  const parts = { train: { size: 0, right: 0, misses: [] } as Part, heldout: { size: 0, right: 0, misses: [] } as Part };
  for (const entry of corpus) {
    const part = parts[entry.split];
    const got = classify(entry).category;
    part.size++;
    if (got === entry.category) part.right++;
    else part.misses.push({ entry, got });
  }
  return parts;
}

/** Classifies every corpus string, round after round, for about `ms`. */
export function corpusThroughput(corpus = loadStopReasonCorpus(), ms = 1000): { perSecond: number; microseconds: number; total: number } {
  let total = 0;
  let sink = 0;
  // One warm-up pass, so the figure is the compiled code's rather than the interpreter's.
  for (const e of corpus) sink += classify(e).category.length;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const e of corpus) sink += classify(e).category.length;
    total += corpus.length;
    elapsed = performance.now() - started;
  }
  if (sink < 0) throw new Error('unreachable');
  return { perSecond: Math.round(total / (elapsed / 1000)), microseconds: (elapsed * 1000) / total, total };
}

const pct = (p: Part) => `${((100 * p.right) / p.size).toFixed(1)} % (${p.right}/${p.size})`;

export function benchCorpus(): string {
  const corpus = loadStopReasonCorpus();
  const { train, heldout } = corpusAccuracy(corpus);
  // Best of three rounds: on a shared machine the other processes only ever slow a round down.
  const rounds = [1, 2, 3].map(() => corpusThroughput(corpus));
  const speed = rounds.reduce((best, r) => (r.perSecond > best.perSecond ? r : best));
  const confusions = new Map<string, number>();
  for (const { entry, got } of [...train.misses, ...heldout.misses]) {
    const key = `${entry.category} → ${got}`;
    confusions.set(key, (confusions.get(key) ?? 0) + 1);
  }
  const top = [...confusions].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return [
    `Corpus: ${corpus.length} distinct real stop reasons (${train.size} train, ${heldout.size} held-out).`,
    '',
    '| part | accuracy |',
    '|---|---:|',
    `| train | ${pct(train)} |`,
    `| held-out | ${pct(heldout)} |`,
    '',
    `Throughput over the corpus: ${speed.perSecond.toLocaleString('en-US')} classifications/s, ${speed.microseconds.toFixed(2)} µs each (best of 3 rounds of about 1 s; the rounds: ${rounds.map((r) => r.perSecond.toLocaleString('en-US')).join(', ')}).`,
    '',
    top.length ? 'Most common confusions (labelled → answered):' : 'No confusions.',
    ...top.map(([key, n]) => `- ${key}: ${n}`),
    ...(heldout.misses.length
      ? [
          '',
          'Held-out misses:',
          ...heldout.misses.map(({ entry, got }) => `- ${entry.category} → ${got}: \`${entry.text.slice(0, 160).replaceAll('`', "'")}\``),
        ]
      : []),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(benchCorpus());
