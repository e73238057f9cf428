/**
 * Which keys and values of a task definition a model of RegisterTaskDefinition
 * does not allow: keys it does not have (with its spelling when the key is a
 * near miss), and values of the wrong kind (an object where it takes a list).
 * The model itself (taskdef-model.ts) is read from the pinned
 * @aws-sdk/client-ecs by scripts/taskdef-shape.ts into
 * taskdef-shape.generated.ts, so that the audit does not load the SDK to check
 * a file; a test regenerates it and fails when the SDK was upgraded without
 * regenerating.
 */

/** `any` is a timestamp, a document or a map (dockerLabels, log options): keys and values are free. */
export type Scalar = 'string' | 'number' | 'boolean' | 'any';
export type ShapeNode = Scalar | { list: ShapeNode } | { struct: KeyShape };
/** A structure's members. */
export type KeyShape = { [key: string]: ShapeNode };

const SIGILS: Record<string, Scalar> = { $: 'string', '#': 'number', '?': 'boolean', '*': 'any' };

/**
 * Reads the generated text back: members separated by spaces, each a name followed by its
 * kind: `$` string, `#` number, `?` boolean, `*` any, `[` a list of the kind after it,
 * `(...)` a structure.
 */
export function decodeShape(text: string): KeyShape {
  let at = 0;
  const node = (): ShapeNode => {
    const c = text[at++]!;
    if (c === '[') return { list: node() };
    if (c === '(') return { struct: members() };
    return SIGILS[c]!;
  };
  const members = (): KeyShape => {
    const shape: KeyShape = {};
    while (at < text.length && text[at] !== ')') {
      const name = /^[^\s()[$#?*]+/.exec(text.slice(at))![0];
      at += name.length;
      shape[name] = node();
      if (text[at] === ' ') at++;
    }
    at++;
    return shape;
  };
  return members();
}

export interface KeyProblem {
  /** JSON path, e.g. `containerDefinitions[0].healthcheck`. */
  path: string;
  key: string;
  /** A key the model does not have, or a value of another kind than the model's. */
  kind: 'unknown' | 'type';
  /** For `unknown`: the model's spelling when the key differs only by case, or by one or two typed characters. */
  suggestion?: string;
  /** For `type`: what the model takes and what the file has. */
  expected?: string;
  got?: string;
}

/** Edit distance, capped: only near-misses matter for a suggestion. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

function suggest(key: string, known: string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const close = known.map((k) => ({ k, d: distance(lower, k.toLowerCase()) })).filter(({ d }) => d <= 2 && key.length > 4);
  close.sort((a, b) => a.d - b.d);
  return close[0]?.k;
}

const kindOf = (v: unknown): string => (Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const expectedOf = (node: ShapeNode): string => (typeof node === 'string' ? `a ${node}` : 'list' in node ? 'a list' : 'an object');

function check(value: unknown, node: ShapeNode, path: string, key: string, found: KeyProblem[]): void {
  // null: the AWS CLI rejects it, the console and the ECS deploy action drop it; which one runs is not in the file.
  if (value === null || value === undefined || node === 'any') return;
  const fits = typeof node === 'string' ? typeof value === node : 'list' in node ? Array.isArray(value) : typeof value === 'object' && !Array.isArray(value);
  if (!fits) {
    found.push({ path, key, kind: 'type', expected: expectedOf(node), got: kindOf(value) });
    return;
  }
  if (typeof node === 'string') return;
  if ('list' in node) {
    (value as unknown[]).forEach((item, i) => {
      check(item, node.list, `${path}[${i}]`, key, found);
    });
  } else found.push(...keyProblems(value, node.struct, path));
}

/** Every key of `value` (recursively) that the model does not have, and every value of the wrong kind. */
export function keyProblems(value: unknown, model: KeyShape, path = ''): KeyProblem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const found: KeyProblem[] = [];
  const known = Object.keys(model);
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const node = Object.hasOwn(model, key) ? model[key] : undefined;
    if (node === undefined) found.push({ path: at, key, kind: 'unknown', suggestion: suggest(key, known) });
    else check(child, node, at, key, found);
  }
  return found;
}
