/**
 * Moves the functions' settings (the `<NAME>_CONFIG` variables infra/functions
 * gives them) out of the Lambda environment and into the bundles, through an
 * esbuild `define` read by functions/shared/env.ts envJson. Lambda allows
 * 4 KB for all variables of a function together (Lambda quotas, "Function
 * configuration, deployment, and execution"), which held about 13 jobs or 46
 * clusters; a bundle has no such limit. The config is still validated when
 * the stack is packaged (infra/config.ts), and each handler validates its
 * slice again at cold start.
 */
import { EMBEDDED_SETTINGS } from '../functions/shared/env.ts';
import type { FunctionSpec } from './functions/types.ts';

export const isSetting = (name: string, value: unknown): value is string => name.endsWith('_CONFIG') && typeof value === 'string';

/** The esbuild `define` that embeds every function's settings (every bundle gets the same, each reads its own). */
export function settingsDefine(specs: readonly FunctionSpec[]): Record<string, string> {
  const settings: Record<string, unknown> = {};
  for (const spec of specs) {
    for (const [name, value] of Object.entries(spec.definition.environment ?? {})) {
      if (isSetting(name, value)) settings[name] = JSON.parse(value);
    }
  }
  // A define's value is JavaScript source: a string literal holding the JSON text.
  return { [EMBEDDED_SETTINGS]: JSON.stringify(JSON.stringify(settings)) };
}

/** The function's environment in the template, without the settings the bundle carries. */
export function withoutEmbedded(environment: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(environment).filter(([name, value]) => !isSetting(name, value)));
}
