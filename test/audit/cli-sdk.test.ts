/**
 * The CLI as a user runs it, in a child process: --help and file audits
 * resolve no AWS SDK module (loading it took most of a second per run), and
 * --cluster does, which shows the probe sees them. Time is measured in
 * bench/audit-cli.ts, never here.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/build.ts';
import { fixturesDir } from './support.ts';

const PROBE = join(repoRoot, 'test', 'support', 'sdk-probe.mjs');
const BIN = join(repoRoot, 'functions', 'audit', 'bin.ts');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; sdk: string[] }> {
  const out = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', PROBE, BIN, ...args], {
    cwd: fixturesDir,
    env: { PATH: process.env.PATH, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  const line = /sdk-probe: (.*)\n/.exec(out.stderr);
  if (!line) throw new Error(`the probe did not report; stderr:\n${out.stderr}`);
  return { code: out.code, stdout: out.stdout, sdk: JSON.parse(line[1]!) };
}

describe('AWS SDK loading', () => {
  it('--help loads no AWS SDK module', async () => {
    const r = await cli(['audit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage:');
    expect(r.sdk).toEqual([]);
  });

  it('auditing files of every kind (task definitions, template, describe output, Terraform plan) loads no AWS SDK module', async () => {
    const r = await cli([
      'audit',
      'payments-api.register.json',
      'orders-worker.describe.json',
      'checkout-web.cfn.yaml',
      'checkout-web.describe-services.json',
      'checkout-web.describe-target-groups.json',
      'checkout-web.describe-target-group-attributes.json',
      'terraform/orders-worker.tfplan.json',
      '--format',
      'sarif',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).runs[0].results.length).toBeGreaterThan(0);
    expect(r.sdk).toEqual([]);
  });

  it('--cluster loads the ECS and ELBv2 clients (here against a closed port, so it exits 2)', async () => {
    const r = await cli(['audit', '--cluster', 'prod', '--region', 'eu-west-1'], {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(r.code).toBe(2);
    expect(r.sdk).toEqual(expect.arrayContaining(['@aws-sdk/client-ecs', '@aws-sdk/client-elastic-load-balancing-v2']));
  });
});
