import { describe, expect, it } from 'vitest';
import { checkRepository, findOutsideReferences } from '../../scripts/check-standalone.ts';
import { repoRoot } from '../support/fixtures.ts';

// The folder beside the repository, spelled in pieces so that this file does not refer to it.
const up = '..';
const sibling = ['shared'].join('');
const root = '/repo';
const existing = new Set(['/repo/test', '/repo/functions/shared', '/repo/functions/shared/store.ts', '/repo/test/fixtures']);
const check = (file: string, text: string) => findOutsideReferences(root, file, text, (p) => existing.has(p));

describe('the repository stands alone', () => {
  it('no tracked file refers to a folder outside the repository', () => {
    expect(checkRepository(repoRoot)).toEqual([]);
  });

  it('reports a path to the folder beside the repository, from any depth', () => {
    expect(check('test/support/fixtures.ts', `readFileSync('${up}/${up}/${up}/${sibling}/aws-events/x.json')`)).toHaveLength(1);
    expect(check('README.md', `The tests read \`${up}/${sibling}/aws-events/\`.`)).toHaveLength(1);
    // Resolved against the working directory by a script under scripts/: from the root it leaves the repository.
    expect(check('scripts/x.ts', `readFileSync('${up}/${sibling}/stopped-reasons-sample.json')`)).toHaveLength(1);
  });

  it("reports the sibling spelled as separate segments, its variable, and the workspace's absolute path", () => {
    expect(check('test/support/fixtures.ts', `resolve(repoRoot, '${up}', '${sibling}')`)).toHaveLength(1);
    expect(check('test/support/fixtures.ts', `process.env.${sibling.toUpperCase()}_DIR`)).toHaveLength(1);
    expect(check('bench/x.ts', `const dir = '/work/${sibling}/aws-events';`)).toHaveLength(1);
  });

  it('accepts the in-repository functions/shared and other relative paths that exist inside', () => {
    expect(check('functions/drain/records.ts', `import { conditional } from '${up}/${sibling}/store.ts';`)).toEqual([]);
    expect(check('functions/drain/records.ts', `see ${up}/${up}/test/fixtures`)).toEqual([]);
    expect(check('test/support/fixtures.ts', "resolve(here, '..', '..')")).toEqual([]);
  });

  it('names the file and line of each reference', () => {
    expect(check('README.md', `one\ntwo ${up}/${sibling}/x\n`)).toEqual([
      { file: 'README.md', line: 2, text: `two ${up}/${sibling}/x`, why: `${up}/${sibling} leaves the repository` },
    ]);
  });
});
