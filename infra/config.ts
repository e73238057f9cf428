import { isAbsolute, resolve } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';
import { ConfigError, parseConfig, type CaretakerConfig } from '../functions/shared/config.ts';
import { scheduleNameFor } from '../functions/task-lock/settings.ts';

/**
 * Loads and validates the operator's configuration for serverless.ts.
 * CARETAKER_CONFIG selects another file (the tests use it); the default is
 * caretaker.config.ts at the repository root.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): string {
  const file = env.CARETAKER_CONFIG ?? 'caretaker.config.ts';
  return isAbsolute(file) ? file : resolve(root, file);
}

// osls loads serverless.ts through tsx's CommonJS API; the config file is
// loaded the same way, so it may be any TypeScript tsx understands.
export function loadConfig(file = configPath()): CaretakerConfig {
  let raw: unknown;
  try {
    const mod = tsxRequire(file, import.meta.url) as { default?: unknown };
    raw = mod.default ?? mod;
  } catch (error) {
    throw new ConfigError(`Cannot load ${file}: ${(error as Error).message}`, []);
  }
  return checkDeployable(parseConfig(raw));
}

/** Values the schema cannot judge alone: they depend on how the config is deployed. */
export function checkDeployable(config: CaretakerConfig): CaretakerConfig {
  const issues: string[] = [];
  const names = new Map<string, string>();
  config.jobs.forEach((job, i) => {
    const name = scheduleNameFor(config, 'x'.repeat(8), job);
    const other = names.get(name);
    if (job.schedule.name && other) issues.push(`config.jobs[${i}].schedule.name: "${name}" is already used by job "${other}"`);
    names.set(name, job.name);
  });
  if (issues.length) throw new ConfigError(`Invalid config:\n  ${issues.join('\n  ')}`, issues);
  return config;
}
