import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { repoRoot } from './fixtures.ts';

export type Template = { Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }> };

const LOCK = join(repoRoot, '.serverless.lock');
// Longer than any packaging takes on a busy machine; a lock this old was left by a killed run.
const STALE_LOCK_MS = 10 * 60_000;

/**
 * osls writes its state into the repository's .serverless/ before it moves it
 * to --package, so two packagings at once (test files run in parallel) break
 * each other or swap templates. mkdir is atomic: the directory is the lock
 * across the test workers.
 */
async function packageLock(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile: try again
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Runs `osls package` exactly as `npm run package` does, offline and without
 * credentials, into a temporary directory, and returns the CloudFormation template.
 */
export async function packageService(configFile: string, stage = 'test'): Promise<{ template: Template; dir: string; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-package-'));
  // Its own esbuild folder: the bundles embed the config, and test files package different configs at once.
  const buildFolder = `.esbuild-${basename(dir)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CARETAKER_CONFIG: configFile,
    CARETAKER_ESBUILD_FOLDER: buildFolder,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: '',
  };
  let stdout: string;
  const release = await packageLock();
  try {
    ({ stdout } = await promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, '--package', dir], {
      cwd: repoRoot,
      env,
      maxBuffer: 16 << 20,
    }));
  } finally {
    rmSync(join(repoRoot, buildFolder), { recursive: true, force: true });
    release();
  }
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { template, dir, stdout };
}

export const resourcesOfType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/**
 * The settings a packaged bundle carries (infra/embedded-settings.ts): the
 * string literal esbuild put in place of __CARETAKER_SETTINGS__, whatever
 * quotes it chose, read back as the JSON object it holds.
 */
export function embeddedSettings(dir: string, zip: string, entry: string): Record<string, any> {
  const code = execFileSync('unzip', ['-p', join(dir, zip), entry], { maxBuffer: 16 << 20 }).toString('utf8');
  const at = code.search(/\{\\?"[A-Z_]+_CONFIG\\?":/);
  if (at < 1) throw new Error(`no embedded settings in ${zip}:${entry}`);
  const quote = code[at - 1]!;
  let end = at;
  while (code[end] !== quote || code[end - 1] === '\\') end++;
  return JSON.parse(runInNewContext(code.slice(at - 1, end + 1)) as string);
}
