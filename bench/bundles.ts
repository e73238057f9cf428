/**
 * Bundle size and cold-import time of each function: the built bundle against
 * the same handler imported unbundled from source (Node's own type stripping,
 * resolving node_modules), each in a fresh Node process, in one run.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../infra/config.ts';
import { lambdaEnvironment } from '../infra/functions/environment.ts';
import { FUNCTION_IDS, handlerFile, type FunctionId } from '../infra/functions/ids.ts';
import { functionSpecs } from '../infra/functions/index.ts';
import { deployContext } from '../infra/functions/types.ts';
import { buildBundles, repoRoot } from '../scripts/build.ts';

// Each handler's cold start reads the environment serverless.ts would give it for the shipped configuration.
const context = deployContext(loadConfig(join(repoRoot, 'caretaker.config.ts')), 'bench');
const specs = functionSpecs(context);
const runtimeEnv: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};
const envFor = (fn: FunctionId): Record<string, string> => {
  const spec = specs.find((s) => s.id === fn);
  if (!spec) throw new Error(`bench: the shipped caretaker.config.ts deploys no ${fn} function`);
  return lambdaEnvironment(spec, context.tableName, runtimeEnv);
};

const node = join(repoRoot, 'node_modules', '.bin', 'node');

function importMs(file: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(node, ['--no-warnings', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return Number(out);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface BundleRow {
  fn: FunctionId;
  bundleKB: number;
  /** the files the handler imports when it is not bundled */
  sourceKB: number;
  bundledMs: number;
  sourceMs: number;
}

export async function benchBundles(runs = 5): Promise<BundleRow[]> {
  const built = await buildBundles(join(repoRoot, 'dist', 'bench'));
  const rows: BundleRow[] = [];
  // One discarded round first: the first processes after a build pay for a cold file cache and CPU ramp-up,
  // which the function measured first would otherwise carry alone.
  for (const fn of FUNCTION_IDS) {
    importMs(built[fn].file, envFor(fn));
    importMs(join(repoRoot, handlerFile(fn)), envFor(fn));
  }
  for (const fn of FUNCTION_IDS) {
    const bundled: number[] = [];
    const source: number[] = [];
    // Interleaved, so that a busy moment on the machine hurts both sides alike.
    for (let i = 0; i < runs; i++) {
      bundled.push(importMs(built[fn].file, envFor(fn)));
      source.push(importMs(join(repoRoot, handlerFile(fn)), envFor(fn)));
    }
    rows.push({ fn, bundleKB: built[fn].bytes / 1024, sourceKB: built[fn].sourceBytes / 1024, bundledMs: median(bundled), sourceMs: median(source) });
  }
  return rows;
}

export function bundlesMarkdown(rows: BundleRow[]): string {
  const lines = [
    '| function | bundle (minified) | unbundled: the files it imports | cold import, bundled | cold import, unbundled source | target |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => {
      const missed = [
        r.bundleKB > 500 && 'bundle > 500 KB',
        r.bundledMs > 100 && 'import > 100 ms',
        r.bundleKB >= r.sourceKB && 'not smaller',
        r.bundledMs >= r.sourceMs && 'not faster',
      ].filter(Boolean);
      return `| ${r.fn} | ${r.bundleKB.toFixed(0)} KB | ${r.sourceKB.toFixed(0)} KB | ${r.bundledMs.toFixed(0)} ms | ${r.sourceMs.toFixed(0)} ms | ${missed.length ? `MISSED: ${missed.join(', ')}` : 'met'} |`;
    }),
    '',
    'Targets (issue 3): bundle ≤ 500 KB, cold import ≤ 100 ms, smaller and faster than unbundled. Unbundled size counts only the files',
    'esbuild read to make the bundle; a zip of node_modules would ship whole packages and be larger still.',
  ];
  return lines.join('\n');
}
