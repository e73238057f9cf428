/**
 * Start-up cost of the `ecs-caretaker audit` command, each run in a fresh
 * Node process: --help and a file audit, from source (Node's type stripping)
 * and from an esbuild bundle split at the lazy imports (what a packaged CLI
 * would run), beside what importing the two AWS SDK clients alone costs.
 * Times are the child's own (start to exit, and CPU), the median of a few
 * runs; on a shared machine the CPU figure is the steadier one.
 * Part of `npm run bench`; alone: `npm run bench:audit-cli`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { repoRoot } from '../scripts/build.ts';

const PROBE = join(repoRoot, 'test', 'support', 'sdk-probe.mjs');
const FIXTURES = join(repoRoot, 'test', 'audit', 'fixtures');
const RUNS = 5;
const TARGET_HELP_MS = 200;

interface Sample {
  wallMs: number;
  cpuMs: number;
  sdkModules: number;
}

function once(args: string[]): Sample {
  // spawnSync keeps stderr whatever the exit code: exit 1 (findings) is a normal audit result.
  const r = spawnSync(process.execPath, ['--import', PROBE, ...args], { cwd: FIXTURES, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH } });
  const stderr = String(r.stderr ?? '');
  const sdk = /sdk-probe: (.*)\n/.exec(stderr);
  const time = /sdk-probe-time: (.*)\n/.exec(stderr);
  if (!sdk || !time) throw new Error(`bench: no probe output for ${args.join(' ')}:\n${stderr}`);
  const t = JSON.parse(time[1]!) as { wallMs: number; cpuMs: number };
  return { wallMs: t.wallMs, cpuMs: t.cpuMs, sdkModules: (JSON.parse(sdk[1]!) as string[]).length };
}

function measure(args: string[]): Sample {
  const samples = Array.from({ length: RUNS }, () => once(args));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    sdkModules: Math.max(...samples.map((s) => s.sdkModules)),
  };
}

const FILES = ['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml', 'checkout-web.describe-services.json', '--format', 'sarif'];

export async function benchAuditCli(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-cli-bench-'));
  try {
    // What a packaged CLI would be: one bundle, with the lazily imported parts (SDK, parsers) in their own chunks.
    await build({
      entryPoints: [join(repoRoot, 'functions', 'audit', 'bin.ts')],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
      logLevel: 'error',
    });
    const bundled = join(dir, 'bin.mjs');
    const source = join(repoRoot, 'functions', 'audit', 'bin.ts');
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, '');

    const rows: Array<[string, Sample]> = [
      ['node (empty script): the floor', measure([empty])],
      [
        'import the ECS and ELBv2 SDK clients, nothing else',
        measure(['--input-type=module', '-e', "await import('@aws-sdk/client-ecs'); await import('@aws-sdk/client-elastic-load-balancing-v2');"]),
      ],
      ['`--help`, bundle', measure([bundled, 'audit', '--help'])],
      ['`--help`, source (type stripping)', measure([source, 'audit', '--help'])],
      ['`--help`, source through tsx, as `npm run audit` runs it', measure(['--import', 'tsx', source, 'audit', '--help'])],
      ['3 files (JSON, YAML template, describe-services) to SARIF, bundle', measure([bundled, ...FILES])],
      ['the same, source', measure([source, ...FILES])],
    ];
    const help = rows[2]![1];
    const lines = [
      `Median of ${RUNS} runs each, in a fresh Node ${process.version} process; AWS SDK modules resolved counted by test/support/sdk-probe.mjs.`,
      '',
      '| run | time to exit (ms) | CPU (ms) | AWS SDK packages resolved |',
      '|---|---:|---:|---:|',
      ...rows.map(([name, s]) => `| ${name} | ${s.wallMs.toFixed(0)} | ${s.cpuMs.toFixed(0)} | ${s.sdkModules} |`),
      '',
      `\`--help\` from the bundle: ${help.wallMs.toFixed(0)} ms to exit against the ${TARGET_HELP_MS} ms target (${help.wallMs <= TARGET_HELP_MS ? 'met' : 'not met on this machine'}), ${help.cpuMs.toFixed(0)} ms CPU.`,
    ];
    return lines.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchAuditCli());
}
