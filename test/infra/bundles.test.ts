/**
 * The Lambda bundles are self-contained: Lambda's zip holds only handler.mjs,
 * so every ES import left in a bundle must be a Node built-in, or the one
 * module infra/esbuild.ts leaves out on purpose.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/esbuild.ts';
import type { FunctionId } from '../../infra/functions/ids.ts';
import { buildBundles, type BuiltBundle } from '../../scripts/build.ts';

const dir = mkdtempSync(join(tmpdir(), 'cc-bundles-'));
let built: Record<FunctionId, BuiltBundle>;
beforeAll(async () => {
  built = await buildBundles(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUILTIN = new Set(builtinModules);
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || BUILTIN.has(specifier);

describe('Lambda bundles', () => {
  it('import nothing outside themselves but Node built-ins and the SDK’s event-stream loader', () => {
    expect(esbuildOptions.external).toEqual(['@smithy/core/event-streams']);
    for (const [key, { file }] of Object.entries(built)) {
      const code = readFileSync(file, 'utf8');
      const specifiers = [...code.matchAll(/\bfrom\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2]!);
      const outside = [...new Set(specifiers.filter((s) => !isBuiltin(s)))];
      expect(outside, key).toEqual(['@smithy/core/event-streams']);
      // Only ever loaded lazily, by an operation with an event stream, which none of the functions calls.
      expect(code, key).not.toMatch(/\bfrom\s*"@smithy\/core\/event-streams"/);
    }
  });
});
