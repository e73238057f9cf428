import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { repoRoot } from './fixtures.ts';

export type Template = { Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }> };

/**
 * Runs `osls package` exactly as `npm run package` does, offline and without
 * credentials, into a temporary directory, and returns the CloudFormation template.
 */
export async function packageService(configFile: string, stage = 'test'): Promise<{ template: Template; dir: string; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CARETAKER_CONFIG: configFile, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };
  const { stdout } = await promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, '--package', dir], {
    cwd: repoRoot,
    env,
    maxBuffer: 16 << 20,
  });
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
