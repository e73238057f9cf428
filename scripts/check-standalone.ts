/**
 * The repository stands alone: a user's clone has nothing beside it, so no
 * tracked file may refer to a folder outside the repository root (the
 * workspace's `shared` folder beside it, above all). `.ci/run` runs this, and
 * test/infra/standalone.test.ts runs it on the repository and on made-up files.
 *
 * A `../` path is fine when, read from the file's own folder, it names
 * something that exists inside the repository (an import of the in-repo
 * functions/shared from a function's folder). It is reported when it does
 * not, and read from the root it would leave the repository, as a path that a
 * script resolves against the working directory would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OutsideReference {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** A chain of `../` and the name after it, not preceded by a path character (so `a/../b` is left alone). */
const UP_PATH = /(?<![\w./-])((?:\.\.\/)+)([\w.@-]+)/g;
/** The parent and the sibling passed to join() or resolve() as separate segments. */
const UP_SEGMENTS = /['"`]\.\.['"`]\s*,\s*['"`]shared\b/;
/** The environment variable the old fixture loader read to find the sibling folder. */
const SIBLING_VARIABLE = /\bSHARED[_]DIR\b/;
/** The workspace's absolute path to the sibling folder. */
const ABSOLUTE_SIBLING = /\/work\/shared\b/;

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
};

/** The outside references in one file's text. `exists` answers for paths inside the root. */
export function findOutsideReferences(root: string, file: string, text: string, exists: (path: string) => boolean = existsSync): OutsideReference[] {
  const found: OutsideReference[] = [];
  const lines = text.split('\n');
  lines.forEach((content, index) => {
    const report = (why: string) => found.push({ file, line: index + 1, text: content.trim().slice(0, 160), why });
    if (UP_SEGMENTS.test(content)) report("joins '..' and 'shared': the folder beside the repository");
    if (SIBLING_VARIABLE.test(content)) report('names the variable that pointed at the folder beside the repository');
    if (ABSOLUTE_SIBLING.test(content)) report('an absolute path to the workspace folder beside the repository');
    for (const match of content.matchAll(UP_PATH)) {
      const [, ups, name] = match;
      const fromFile = resolve(root, dirname(file), ups!, name!);
      if (inside(root, fromFile) && exists(fromFile)) continue;
      const fromRoot = resolve(root, ups!, name!);
      if (!inside(root, fromRoot)) report(`${ups}${name} leaves the repository`);
    }
  });
  return found;
}

/** Tracked files, as git lists them; binary files are skipped. */
export function checkRepository(root: string): OutsideReference[] {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    .split('\0')
    .filter((f) => f !== '' && f !== 'package-lock.json');
  return files.flatMap((file) => {
    const path = join(root, file);
    if (!existsSync(path)) return []; // deleted in the work tree, not yet committed
    const bytes = readFileSync(path);
    if (bytes.includes(0)) return [];
    return findOutsideReferences(root, file, bytes.toString('utf8'));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const found = checkRepository(root);
  for (const f of found) console.error(`${f.file}:${f.line}: ${f.why}\n    ${f.text}`);
  console.log(found.length === 0 ? 'no tracked file refers outside the repository' : `${found.length} reference(s) outside the repository`);
  process.exit(found.length === 0 ? 0 : 1);
}
