import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * serverless-esbuild bundles in the repository's .esbuild/ and removes it when
 * done, and copies the zips through .serverless/: two packagings at once (two
 * test files in parallel workers) destroy each other's work and one of them
 * hangs. One at a time per clone, across worker processes; a lock whose
 * holder died is taken over.
 */
async function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `cc-osls-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 12)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // just created: its holder has not written its pid yet
      }
      if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  try {
    return await run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export type Template = { Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }> };

/**
 * Runs `osls package` exactly as `npm run package` does, offline and without
 * credentials, into a temporary directory, and returns the CloudFormation template.
 */
export async function packageService(configFile: string, stage = 'test'): Promise<{ template: Template; dir: string; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CARETAKER_CONFIG: configFile, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };
  const { stdout } = await oneAtATime(() =>
    promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, '--package', dir], {
      cwd: repoRoot,
      env,
      maxBuffer: 16 << 20,
    }),
  );
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { template, dir, stdout };
}

export const resourcesOfType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
