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

/** Reads a JSON environment variable and validates it, naming the variable and the field on error. */
export function envJson<S extends z.ZodMiniType>(name: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const raw = requireEnv(name, env);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`Environment variable ${name} is not valid JSON: ${(error as Error).message}`);
  }
  return parseOrThrow(schema, parsed, name);
}

/** Lambda allows 4 KB for all environment variables of a function together (Lambda quotas, "Function configuration, deployment, and execution"). */
export const LAMBDA_ENV_LIMIT_BYTES = 4096;
/** What a function's own configuration variable may take: TABLE_NAME, the Powertools variables and the rest share the other 1 KB. */
export const CONFIG_ENV_LIMIT_BYTES = LAMBDA_ENV_LIMIT_BYTES - 1024;

/**
 * The size check of a configuration variable, run when the stack is packaged:
 * undefined when `value` fits in CONFIG_ENV_LIMIT_BYTES as JSON, otherwise
 * what `issue` says of its size.
 */
export function envSizeIssue(value: unknown, issue: (bytes: number, limit: number) => string): string | undefined {
  const bytes = Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));
  return bytes > CONFIG_ENV_LIMIT_BYTES ? issue(bytes, CONFIG_ENV_LIMIT_BYTES) : undefined;
}
