/**
 * `npm run package:cfn -- [--stage prod] [--region eu-west-1] [--out dist/cfn] [--from .serverless] [--artifact-parameters]`
 *
 * Writes a plain CloudFormation template and the functions' code zips:
 *
 *   dist/cfn/template.json      no osls references; Parameters for topic, boundary, retention
 *   dist/cfn/code/<fn>.zip      the bundles, exactly as `npm run package` builds them
 *
 * The template is derived from `osls package` (run offline, without
 * credentials), so both deploy paths share one definition of the stack.
 * `--artifact-parameters` points the functions' Code at the ArtifactBucket and
 * ArtifactPrefix parameters instead, for pipelines that upload the zips
 * themselves. `--from` reuses the output of an `npm run package` already done for the
 * same stage and config (CI lints both templates from one build).
 * Deploy it with `aws cloudformation package` + `deploy` (README, "Install").
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CaretakerConfig } from '../functions/shared/config.ts';
import { toPlainTemplate, type Template } from '../infra/cfn-template.ts';
import { loadConfig } from '../infra/config.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Turns the output of `osls package` in `oslsDir` into `outDir/template.json` and `outDir/code/*.zip`; returns the template. */
export function writePlainPackage(
  oslsDir: string,
  outDir: string,
  config: CaretakerConfig,
  stage: string,
  artifacts: 'local' | 'parameters' = 'local',
): Template {
  const osls = JSON.parse(readFileSync(join(oslsDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'code'), { recursive: true });
  const code: Record<string, string> = {};
  for (const [id, resource] of Object.entries(osls.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const key = (resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key;
    if (typeof key !== 'string') throw new Error(`package:cfn: ${id} has no S3Key in the osls template`);
    const zip = basename(key);
    // Named by content in the bucket: CloudFormation updates a function's code only when its S3 key changes.
    const digest = createHash('sha256')
      .update(readFileSync(join(oslsDir, zip)))
      .digest('hex')
      .slice(0, 16);
    const name = artifacts === 'parameters' ? zip.replace(/\.zip$/, `-${digest}.zip`) : zip;
    copyFileSync(join(oslsDir, zip), join(outDir, 'code', name));
    // Relative to the template: `aws cloudformation package` resolves local paths from the template's folder.
    code[id] = artifacts === 'parameters' ? name : `code/${name}`;
  }
  const template = toPlainTemplate(osls, { config, stage, code, artifacts });
  writeFileSync(join(outDir, 'template.json'), `${JSON.stringify(template, null, 2)}\n`);
  return template;
}

/** `osls package` exactly as `npm run package` runs it: offline, no credentials. */
export async function oslsPackage(dir: string, stage: string, region?: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const args = ['package', '--stage', stage, '--package', dir, ...(region ? ['--region', region] : [])];
  await promisify(execFile)(join(repoRoot, 'node_modules', '.bin', 'osls'), args, {
    cwd: repoRoot,
    env: { ...env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
    maxBuffer: 16 << 20,
  });
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const stage = option(argv, '--stage') ?? 'dev';
  const region = option(argv, '--region');
  const outDir = resolve(option(argv, '--out') ?? join(repoRoot, 'dist', 'cfn'));
  const config = loadConfig();
  const from = option(argv, '--from');
  const oslsDir = from ? resolve(from) : mkdtempSync(join(tmpdir(), 'cc-osls-'));
  try {
    if (!from) await oslsPackage(oslsDir, stage, region);
    const artifacts = argv.includes('--artifact-parameters') ? 'parameters' : 'local';
    const template = writePlainPackage(oslsDir, outDir, config, stage, artifacts);
    console.log(
      `${join(outDir, 'template.json')}: ${Object.keys(template.Resources).length} resources, parameters ${Object.keys(template.Parameters ?? {}).join(', ')}`,
    );
    console.log(
      artifacts === 'local'
        ? `next: aws cloudformation package --template-file ${join(outDir, 'template.json')} --s3-bucket <bucket> --s3-prefix <prefix> --use-json --output-template-file packaged.json`
        : `next: aws s3 cp --recursive ${join(outDir, 'code')} s3://<bucket>/<prefix>/, then deploy with ArtifactBucket=<bucket> ArtifactPrefix=<prefix>/`,
    );
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    console.error(e.stdout ?? '', e.stderr ?? '', `package:cfn failed (stage ${stage}): ${e.message}`);
    process.exitCode = 1;
  } finally {
    if (!from) rmSync(oslsDir, { recursive: true, force: true });
  }
}
