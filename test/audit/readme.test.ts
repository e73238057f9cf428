/**
 * The README's CloudFormation example is run as written, and its printed
 * output must be what the CLI prints for it: a doc example that drifted
 * from the code would teach the wrong thing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../functions/audit/cli.ts';
import { repoRoot } from '../../scripts/build.ts';

const ROW = /^(critical|high|medium|low|info)\s/;

it('the README CloudFormation example prints what the README says', async () => {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const template = /A template:\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  const shown = /```\n\$ npm run audit -- stack\.yaml.*\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(template, 'README: the yaml block after "A template:"').toBeDefined();
  expect(shown, 'README: the output block of "npm run audit -- stack.yaml"').toBeDefined();

  const dir = await mkdtemp(join(tmpdir(), 'audit-readme-'));
  try {
    await writeFile(join(dir, 'stack.yaml'), template!);
    let stdout = '';
    const code = await main(['audit', 'stack.yaml'], { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env: {}, cwd: dir });
    expect(code).toBe(1);
    // The README shortens evidence and fix lines; the rows and the summary are shown whole.
    const rows = (text: string) => text.split('\n').filter((l) => ROW.test(l) || /^\d+ (finding|at or above)/.test(l));
    expect(rows(stdout)).toEqual(rows(shown!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
