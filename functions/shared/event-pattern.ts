/**
 * A small EventBridge event-pattern matcher, so that handlers can re-check the
 * events they receive against the very patterns their rules subscribe with
 * (functions/<name>/events.ts), and tests can prove a pattern selects the
 * intended real payloads without calling TestEventPattern.
 *
 * Semantics follow the Amazon EventBridge user guide ("Event pattern syntax",
 * "Arrays in event patterns", "Content filtering" / "Comparison operators")
 * and the README of aws/event-ruler, the library that implements them.
 */

export type EventPattern = { [field: string]: EventPattern | PatternValue[] };
export type PatternValue = string | number | boolean | null | Record<string, unknown>; // content filters are objects

/** What EventBridge treats as a leaf value of an event. */
type Scalar = string | number | boolean | null;

const OR = '$or';
const STRING_FILTERS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'] as const;
type StringFilter = (typeof STRING_FILTERS)[number];

/**
 * True when `event` matches `pattern` with EventBridge semantics.
 * The pattern is trusted: check it once with `assertValidPattern` where it is defined, not per event.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: EventPattern, node: unknown): boolean {
  for (const key of Object.keys(pattern)) {
    const rule = pattern[key]!;
    if (key === OR && Array.isArray(rule)) {
      if (!(rule as EventPattern[]).some((alternative) => matchObject(alternative, node))) return false;
    } else if (Array.isArray(rule)) {
      if (!matchLeaf(rule, fieldOf(node, key))) return false;
    } else if (!matchNested(rule, fieldOf(node, key))) {
      return false;
    }
  }
  return true;
}

// Own properties only: a pattern field called "constructor" must not find Object.prototype.constructor.
function fieldOf(node: unknown, key: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  return Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function matchNested(pattern: EventPattern, value: unknown): boolean {
  if (!Array.isArray(value)) return matchObject(pattern, value);
  // Ruler's array-consistent matching: every field of the sub-pattern must be satisfied inside the
  // same array element, so {name: A, value: B} never matches A from one element and B from another.
  let sawObject = false;
  const tryElements = (items: unknown[]): boolean => {
    for (const item of items) {
      if (Array.isArray(item)) {
        if (tryElements(item)) return true;
      } else if (typeof item === 'object' && item !== null) {
        sawObject = true;
        if (matchObject(pattern, item)) return true;
      }
    }
    return false;
  };
  if (tryElements(value)) return true;
  // An array without objects has no fields below it, which only `exists: false` can match.
  return !sawObject && matchObject(pattern, undefined);
}

function matchLeaf(rules: PatternValue[], value: unknown): boolean {
  let present: boolean | undefined;
  for (const rule of rules) {
    if (isExistsFilter(rule)) {
      // `exists` is about leaf values: an object, an empty array or a missing field has none.
      present ??= hasScalar(value);
      if (rule.exists === present) return true;
    } else if (someScalar(value, rule)) {
      return true;
    }
  }
  return false;
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function hasScalar(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasScalar);
  return isScalar(value);
}

// An event array matches when any of its elements does (the intersection rule), at any depth.
function someScalar(value: unknown, rule: PatternValue): boolean {
  if (Array.isArray(value)) return value.some((item) => someScalar(item, rule));
  return isScalar(value) && matchScalar(rule, value);
}

function isExistsFilter(rule: PatternValue): rule is { exists: boolean } {
  return typeof rule === 'object' && rule !== null && 'exists' in rule;
}

function matchScalar(rule: PatternValue, value: Scalar): boolean {
  // JSON numbers are parsed to doubles, so 300 and 300.0 already compare equal here, and "300" never equals 300.
  if (rule === null || typeof rule !== 'object') return rule === value;
  const operator = Object.keys(rule)[0];
  const argument = operator === undefined ? undefined : rule[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard':
      return typeof value === 'string' && matchString(operator, argument, value);
    case 'numeric':
      return typeof value === 'number' && matchNumeric(argument as (string | number)[], value);
    case 'anything-but':
      return !excluded(argument, value);
    default:
      // Reached only with a pattern that assertValidPattern would have rejected; fail loudly rather than never match.
      throw new Error(`event pattern uses the content filter "${String(operator)}", which this matcher does not implement`);
  }
}

function matchString(operator: StringFilter, argument: unknown, value: string): boolean {
  switch (operator) {
    case 'prefix':
      return typeof argument === 'string' ? value.startsWith(argument) : value.toLowerCase().startsWith(ignoreCaseOperand(argument));
    case 'suffix':
      return typeof argument === 'string' ? value.endsWith(argument) : value.toLowerCase().endsWith(ignoreCaseOperand(argument));
    case 'equals-ignore-case':
      return value.toLowerCase() === (argument as string).toLowerCase();
    case 'wildcard':
      return matchWildcard(argument as string, value);
  }
}

function ignoreCaseOperand(argument: unknown): string {
  return ((argument as Record<string, string>)['equals-ignore-case'] ?? '').toLowerCase();
}

function excluded(argument: unknown, value: Scalar): boolean {
  if (Array.isArray(argument)) return argument.includes(value);
  if (typeof argument !== 'object' || argument === null) return argument === value;
  // {prefix|suffix|equals-ignore-case|wildcard: one or several strings}; those only ever exclude strings.
  if (typeof value !== 'string') return false;
  const operator = Object.keys(argument)[0] as StringFilter;
  const operands = (argument as Record<string, unknown>)[operator];
  if (Array.isArray(operands)) return operands.some((operand) => matchString(operator, operand, value));
  return matchString(operator, operands, value);
}

function matchNumeric(conditions: (string | number)[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    switch (conditions[i]) {
      case '=':
        if (!(value === bound)) return false;
        break;
      case '<':
        if (!(value < bound)) return false;
        break;
      case '<=':
        if (!(value <= bound)) return false;
        break;
      case '>':
        if (!(value > bound)) return false;
        break;
      case '>=':
        if (!(value >= bound)) return false;
        break;
      default:
        throw new Error(`event pattern uses the numeric operator "${String(conditions[i])}"`);
    }
  }
  return true;
}

/** Literal pieces between unescaped `*`; `\*` is a literal asterisk and `\\` a literal backslash. */
function wildcardPieces(pattern: string): string[] {
  const pieces: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\') current += pattern[++i] ?? '';
    else if (char === '*') {
      pieces.push(current);
      current = '';
    } else current += char;
  }
  pieces.push(current);
  return pieces;
}

function matchWildcard(pattern: string, value: string): boolean {
  const pieces = wildcardPieces(pattern);
  const first = pieces[0]!;
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1]!;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  // With `*` as the only metacharacter, taking each middle piece at its leftmost place never loses a match.
  const end = value.length - last.length;
  let position = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    const found = value.indexOf(piece, position);
    if (found < 0 || found + piece.length > end) return false;
    position = found + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Validation: the rules EventBridge applies when a rule is created, so a bad pattern fails in a
// unit test or at packaging time with the offending path, instead of at deploy time.

/** Throws an Error naming the path (e.g. "detail.lastStatus: ...") when a pattern is not valid EventBridge syntax (a leaf that is not an array, an unknown content filter, an empty array). */
export function assertValidPattern(pattern: unknown, path?: string): asserts pattern is EventPattern {
  const here = path ?? '';
  if (!isPlainObject(pattern)) fail(here, `a pattern must be a JSON object, got ${describe(pattern)}`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(here, 'empty objects are not allowed in a pattern');
  for (const key of keys) {
    const value = pattern[key];
    const at = here === '' ? key : `${here}.${key}`;
    if (key === OR) checkOr(value, at);
    else if (Array.isArray(value)) checkLeaf(value, at);
    else if (isPlainObject(value)) assertValidPattern(value, at);
    else fail(at, `must be an array of values to match or a nested pattern object, got ${describe(value)}`);
  }
}

function fail(path: string, message: string): never {
  throw new Error(`${path === '' ? '(pattern)' : path}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;
}

function checkOr(value: unknown, at: string): void {
  if (!Array.isArray(value) || value.length < 2) fail(at, 'must be an array of at least two patterns');
  value.forEach((alternative, index) => {
    assertValidPattern(alternative, `${at}[${index}]`);
  });
}

function checkLeaf(values: unknown[], at: string): void {
  if (values.length === 0) fail(at, 'an empty array matches nothing and EventBridge rejects it');
  values.forEach((value, index) => {
    if (typeof value === 'number' && !Number.isFinite(value)) fail(at, `element ${index} is not a finite number`);
    if (isScalar(value)) return;
    if (!isPlainObject(value)) fail(at, `element ${index} must be a string, number, boolean, null or content filter, got ${describe(value)}`);
    checkFilter(value, `${at}[${index}]`);
  });
}

function checkFilter(filter: Record<string, unknown>, at: string): void {
  const operators = Object.keys(filter);
  if (operators.length !== 1) {
    fail(at, `a content filter takes exactly one operator, got ${operators.length === 0 ? 'none' : operators.join(', ')}`);
  }
  const operator = operators[0]!;
  const argument = filter[operator];
  const where = `${at}.${operator}`;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof argument === 'string') return;
      if (isPlainObject(argument) && Object.keys(argument).length === 1 && typeof argument['equals-ignore-case'] === 'string') return;
      fail(where, 'takes a string or {"equals-ignore-case": string}');
      return;
    case 'equals-ignore-case':
      if (typeof argument !== 'string') fail(where, 'takes a string');
      return;
    case 'wildcard':
      if (typeof argument !== 'string') fail(where, 'takes a string');
      checkWildcard(argument, where);
      return;
    case 'exists':
      if (typeof argument !== 'boolean') fail(where, 'takes true or false');
      return;
    case 'numeric':
      checkNumeric(argument, where);
      return;
    case 'anything-but':
      checkAnythingBut(argument, where);
      return;
    case 'cidr':
      fail(where, 'is valid EventBridge syntax, but this matcher does not implement it');
      return;
    default:
      fail(at, `unknown content filter "${operator}"`);
      return;
  }
}

function checkWildcard(pattern: string, at: string): void {
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') fail(at, 'a backslash may only escape "*" or "\\"');
      i++;
    } else if (char === '*' && pattern[i + 1] === '*') {
      fail(at, 'consecutive wildcard characters are not allowed');
    }
  }
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function checkNumeric(argument: unknown, at: string): void {
  const shape = 'takes [operator, number] or [">"|">=", number, "<"|"<=", number]';
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) fail(at, shape);
  for (let i = 0; i < argument.length; i += 2) {
    const operator = argument[i];
    const bound = argument[i + 1];
    if (typeof operator !== 'string' || !(operator === '=' || LOWER.has(operator) || UPPER.has(operator))) {
      fail(at, `unknown numeric operator ${JSON.stringify(operator)}`);
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(at, `the bound after "${operator}" must be a number`);
  }
  if (argument.length === 4) {
    if (!LOWER.has(argument[0]) || !UPPER.has(argument[2])) fail(at, shape);
    if (!(argument[1] < argument[3])) fail(at, 'the lower bound must be below the upper bound');
  }
}

function checkAnythingBut(argument: unknown, at: string): void {
  if (typeof argument === 'string' || (typeof argument === 'number' && Number.isFinite(argument))) return;
  if (Array.isArray(argument)) {
    const allStrings = argument.every((item) => typeof item === 'string');
    const allNumbers = argument.every((item) => typeof item === 'number' && Number.isFinite(item));
    if (argument.length === 0 || !(allStrings || allNumbers)) fail(at, 'a list must be non-empty and hold only strings or only numbers');
    return;
  }
  if (isPlainObject(argument)) {
    const operators = Object.keys(argument);
    const operator = operators[0] as StringFilter;
    if (operators.length !== 1 || !STRING_FILTERS.includes(operator)) {
      fail(at, `takes a string, a number, a list, or one of ${STRING_FILTERS.map((name) => `{"${name}": ...}`).join(', ')}`);
    }
    const operands = argument[operator];
    const list = Array.isArray(operands) ? operands : [operands];
    if (list.length === 0 || !list.every((item) => typeof item === 'string')) {
      fail(`${at}.${operator}`, 'takes a string or a non-empty list of strings');
    }
    if (operator === 'wildcard') for (const item of list) checkWildcard(item as string, `${at}.${operator}`);
    return;
  }
  fail(at, `takes a string, a number, a list or a string filter, got ${describe(argument)}`);
}
