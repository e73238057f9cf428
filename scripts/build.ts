/**
 * Builds the Lambda bundles with the deployment's esbuild options into
 * dist/<function>/handler.mjs, for the E2E tests, the demo and the benchmark.
 * (`npm run package` builds the same bundles through serverless-esbuild.)
 */
import { build } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildOptions } from '../infra/esbuild.ts';
import { FUNCTION_IDS, handlerFile, type FunctionId } from '../infra/functions/ids.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const bundlePath = (id: FunctionId, outDir = join(repoRoot, 'dist')): string => join(outDir, id, 'handler.mjs');

export interface BuiltBundle {
  file: string;
  bytes: number;
  /** The source and node_modules files the bundle was made from, as they are on disk: what the handler imports unbundled. */
  sourceBytes: number;
}

export async function buildBundles(outDir = join(repoRoot, 'dist')): Promise<Record<FunctionId, BuiltBundle>> {
  const out = {} as Record<FunctionId, BuiltBundle>;
  for (const id of FUNCTION_IDS) {
    const file = bundlePath(id, outDir);
    mkdirSync(dirname(file), { recursive: true });
    const { metafile } = await build({ ...esbuildOptions, entryPoints: [join(repoRoot, handlerFile(id))], outfile: file, logLevel: 'warning', metafile: true });
    const sourceBytes = Object.values(metafile.inputs).reduce((sum, input) => sum + input.bytes, 0);
    out[id] = { file, bytes: statSync(file).size, sourceBytes };
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildBundles();
  for (const [key, { file, bytes }] of Object.entries(built)) console.log(`${key.padEnd(14)} ${(bytes / 1024).toFixed(0).padStart(5)} KB  ${file}`);
}
