/**
 * Which keys of a task definition a key model does not have, with the model's
 * spelling when the key is a near miss. The model itself (taskdef-model.ts) is
 * read from the pinned @aws-sdk/client-ecs by scripts/taskdef-shape.ts into
 * taskdef-shape.generated.ts, so that the audit does not load the SDK to check
 * a file; a test regenerates it and fails when the SDK was upgraded without
 * regenerating.
 */

/** A structure's members; `true` for a value whose keys are free (a map such as dockerLabels) or a scalar. */
export type KeyShape = { [key: string]: KeyShape | true };

/** Reads the generated "key key(child child) ..." text back into a KeyShape. */
export function decodeShape(text: string): KeyShape {
  let at = 0;
  const parse = (): KeyShape => {
    const shape: KeyShape = {};
    while (at < text.length && text[at] !== ')') {
      const name = /^[^\s()]+/.exec(text.slice(at))![0];
      at += name.length;
      if (text[at] === '(') {
        at++;
        shape[name] = parse();
        at++;
      } else shape[name] = true;
      if (text[at] === ' ') at++;
    }
    return shape;
  };
  return parse();
}

export interface UnknownKey {
  /** JSON path, e.g. `containerDefinitions[0].healthcheck`. */
  path: string;
  key: string;
  /** The model's spelling when the key differs only by case, or by one or two typed characters. */
  suggestion?: string;
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

/** Every key of `value` (recursively) that the model does not have at that place. */
export function unknownKeys(value: unknown, model: KeyShape, path = ''): UnknownKey[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownKeys(item, model, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const found: UnknownKey[] = [];
  const known = Object.keys(model);
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const sub = Object.hasOwn(model, key) ? model[key] : undefined;
    if (sub === undefined) found.push({ path: at, key, suggestion: suggest(key, known) });
    else if (sub !== true) found.push(...unknownKeys(child, sub, at));
  }
  return found;
}
