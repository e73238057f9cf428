import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config.ts';
import { esbuildOptions } from '../../infra/esbuild.ts';
import { settingsDefine, withoutEmbedded } from '../../infra/embedded-settings.ts';
import { functionSpecs } from '../../infra/functions/index.ts';
import { functionEnvironment } from '../../infra/functions/environment.ts';
import { deployContext } from '../../infra/functions/types.ts';
import { repoRoot } from '../support/fixtures.ts';

// 60 jobs with overrides: about 20 KB of task-lock settings, five times what Lambda's environment holds.
const config = parseConfig({
  service: 'cc-big',
  clusters: [{ name: 'batch', asgs: ['batch-asg'] }],
  jobs: Array.from({ length: 60 }, (_, i) => ({
    name: `report-${String(i).padStart(2, '0')}`,
    cluster: 'batch',
    taskDefinition: `report-${i}`,
    schedule: { expression: `cron(${i % 60} 2 * * ? *)`, timezone: 'Europe/Paris' },
    maxRunSeconds: 3600,
    overrides: { containerOverrides: [{ name: 'app', command: ['run-report', `--part=${i}`, '--output=s3://reports-bucket/nightly/'] }] },
  })),
});
const specs = functionSpecs(deployContext(config, 'prod'));
const taskLock = specs.find((s) => s.id === 'task-lock')!;
const dir = mkdtempSync(join(tmpdir(), 'cc-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('settings embedded in the bundles', () => {
  it('keeps a config over 4 KB out of the Lambda environment', () => {
    const settings = taskLock.definition.environment!.TASK_LOCK_CONFIG as string;
    expect(Buffer.byteLength(settings)).toBeGreaterThan(4 * 4096);
    for (const spec of specs) {
      const environment = withoutEmbedded(functionEnvironment(spec, 'cc-big-prod-state'));
      expect(
        Object.keys(environment).filter((name) => name.endsWith('_CONFIG')),
        spec.id,
      ).toEqual([]);
      expect(Buffer.byteLength(JSON.stringify(environment)), spec.id).toBeLessThan(1024);
    }
  });

  it('a bundle built with the deployment’s esbuild options reads them without any environment variable', async () => {
    // The same envJson call the task-lock handler makes at cold start, bundled as serverless-esbuild bundles it.
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { envJson } from ${JSON.stringify(join(repoRoot, 'functions/shared/env.ts'))};
       import { taskLockEnvSchema } from ${JSON.stringify(join(repoRoot, 'functions/task-lock/settings.ts'))};
       export const read = (env) => envJson('TASK_LOCK_CONFIG', taskLockEnvSchema, env);`,
    );
    const outfile = join(dir, 'entry.mjs');
    await build({ ...esbuildOptions, define: settingsDefine(specs), entryPoints: [entry], outfile, logLevel: 'warning' });
    const { read } = (await import(pathToFileURL(outfile).href)) as { read: (env: NodeJS.ProcessEnv) => { jobs: Array<{ name: string }> } };

    const settings = read({});
    expect(settings.jobs).toHaveLength(60);
    expect(settings.jobs[59]!.name).toBe('report-59');
    // An operator can still override it through the environment, and a bad override fails naming the field.
    expect(read({ TASK_LOCK_CONFIG: JSON.stringify({ ...JSON.parse(taskLock.definition.environment!.TASK_LOCK_CONFIG as string), jobs: [] }) }).jobs).toEqual(
      [],
    );
    expect(() => read({ TASK_LOCK_CONFIG: '{"jobs": 3}' })).toThrow(/TASK_LOCK_CONFIG/);
  });

  it('without embedded settings (unbundled, demo and E2E bundles) the variable is required, by name', async () => {
    const { envJson } = await import('../../functions/shared/env.ts');
    const { taskLockEnvSchema } = await import('../../functions/task-lock/settings.ts');
    expect(() => envJson('TASK_LOCK_CONFIG', taskLockEnvSchema, {})).toThrow('Missing required environment variable TASK_LOCK_CONFIG');
  });
});
