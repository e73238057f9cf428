import type * as z from 'zod/mini';
import { parseOrThrow } from './config.ts';

/** Configuration reaches a handler through its environment; a missing value is a deployment bug, so fail loudly at cold start. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The functions' settings as the stack embeds them at build time (esbuild
 * `define`, infra/embedded-settings.ts): one JSON object keyed by the name of
 * the variable it replaces. The bundle carries the configuration, so it is
 * not bound by Lambda's 4 KB for all environment variables together. Absent
 * when the code runs unbundled or from a bundle built without it (tests,
 * demo, E2E), where the environment variable carries the value instead.
 */
export const EMBEDDED_SETTINGS = '__CARETAKER_SETTINGS__';
declare const __CARETAKER_SETTINGS__: string | undefined;

function embeddedSetting(name: string): string | undefined {
  if (typeof __CARETAKER_SETTINGS__ === 'undefined') return undefined;
  const value = (JSON.parse(__CARETAKER_SETTINGS__) as Record<string, unknown>)[name];
  return value === undefined ? undefined : JSON.stringify(value);
}

/**
 * Reads a JSON setting and validates it, naming the variable and the field
 * on error: from the environment variable when it is set (an operator's
 * override, or a test), else from the settings embedded in the bundle.
 */
export function envJson<S extends z.ZodMiniType>(name: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const raw = optionalEnv(name, env) ?? embeddedSetting(name);
  if (raw === undefined) throw new Error(`Missing required environment variable ${name} (and no settings were embedded in the bundle)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`Environment variable ${name} is not valid JSON: ${(error as Error).message}`);
  }
  return parseOrThrow(schema, parsed, name);
}
