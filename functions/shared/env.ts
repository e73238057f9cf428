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
