import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
