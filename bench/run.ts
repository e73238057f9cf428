/**
 * `npm run bench`: runs every benchmark in this process and writes
 * bench/REPORT.md (also printed). The report is produced here, never by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../scripts/build.ts';
import { benchAuditCli } from './audit-cli.ts';
import { benchAuditCorpus } from './audit-corpus.ts';
import { benchBundles, bundlesMarkdown } from './bundles.ts';
import { benchCleanup } from './cleanup.ts';
import { benchDrain, benchDrainReconcile, benchMassScaleIn, benchMassScaleInProcess } from './drain.ts';
import { benchBaseline } from './e2e.ts';
import { benchStoppedWatch } from './stopped-watch.ts';
import { benchTaskLock } from './task-lock.ts';

// The benches count calls; EMF lines from the functions' metrics would only flood the report's output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const sections: Array<[string, () => Promise<string>]> = [
  ['Bundles and cold start', async () => bundlesMarkdown(await benchBundles())],
  ['task-lock: ECS and DynamoDB calls per occurrence', benchTaskLock],
  ['drain: API calls per drain and completion delay', benchDrain],
  ['drain: a DynamoDB outage and lost lifecycle events, reconciled from Auto Scaling', benchDrainReconcile],
  ['drain: mass scale-in with ECS throttled at its documented rates', () => benchMassScaleIn()],
  ['drain: 500 instances × 20 tasks in-process with ECS throttled', () => benchMassScaleInProcess()],
  ['stopped-watch: corpus accuracy, classification throughput and alert-path DynamoDB calls', benchStoppedWatch],
  ['cleanup: SendCommand calls by fleet size, and the script over 10,000 containers', benchCleanup],
  ['audit: precision and recall on the public task-definition corpus, and files per second', async () => benchAuditCorpus()],
  ['E2E baseline: the naive drainer against ecs-caretaker under random faults', () => benchBaseline()],
  ['audit CLI: start-up time, and AWS SDK loaded only for --cluster', benchAuditCli],
];

const started = Date.now();
const reportPath = join(repoRoot, 'bench', 'REPORT.md');
// BENCH_SECTIONS=mass,API: run only the sections whose title contains one of these, and put them in place in the
// existing report, leaving the other sections as they were measured.
const only = process.env.BENCH_SECTIONS?.split(',')
  .map((x) => x.trim())
  .filter(Boolean);
if (only?.length) {
  let report = readFileSync(reportPath, 'utf8');
  for (const [title, run] of sections.filter(([t]) => only.some((o) => t.includes(o)))) {
    process.stderr.write(`bench: ${title}…\n`);
    // The header tells when and on what Node the full run was; a section measured later says so itself.
    const stamp = `_Re-measured on ${new Date().toISOString()} with Node ${process.version} (\`BENCH_SECTIONS\`)._`;
    const section = `## ${title}\n\n${stamp}\n\n${await run()}\n\n`;
    const at = report.indexOf(`## ${title}\n`);
    // The last section ends where the report's trailer (its total time) begins, which must stay.
    const next = at < 0 ? -1 : report.indexOf('\n## ', at + 1);
    const end = next >= 0 ? next : report.indexOf('\nTotal bench time', at + 1);
    if (at >= 0) report = report.slice(0, at) + section + (end < 0 ? '' : report.slice(end + 1));
    else report = report.replace(/\nTotal bench time/, `\n${section}Total bench time`);
  }
  writeFileSync(reportPath, report);
  console.log(report);
  process.exit(0);
}
const parts: string[] = [
  '# ecs-caretaker benchmark report',
  '',
  `Produced by \`npm run bench\` on ${new Date().toISOString()}.`,
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${process.platform}/${process.arch}.`,
  '',
];
for (const [title, run] of sections) {
  process.stderr.write(`bench: ${title}…\n`);
  parts.push(`## ${title}`, '', await run(), '');
}
parts.push(`Total bench time: ${((Date.now() - started) / 1000).toFixed(1)} s.`, '');
const report = parts.join('\n');
writeFileSync(reportPath, report);
console.log(report);
