/**
 * A JSON parser that remembers where every value starts in the text.
 *
 * JSON.parse cannot say on which line a task definition file is broken (Node
 * 20 only gives a character offset), and it forgets where each field was, so
 * a finding could not point at the line of `containerDefinitions[1].healthCheck`
 * in a code-scanning report. Parsing ourselves gives both from one pass.
 */
import { formatPath } from '../shared/config.ts';

/** 1-based line and column (in UTF-16 code units, like editors and SARIF's default). */
export interface Position {
  line: number;
  column: number;
}

export interface ParsedJson {
  value: unknown;
  /** Where each value starts, by path in the `a.b[1].c` form of formatPath ('' is the root). */
  positions: ReadonlyMap<string, Position>;
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  readonly line: number;
  readonly column: number;
  readonly reason: string;
  constructor(reason: string, position: Position) {
    super(`line ${position.line}, column ${position.column}: ${reason}`);
    this.reason = reason;
    this.line = position.line;
    this.column = position.column;
  }
}

// Nesting is bounded so that a hostile file cannot overflow the stack.
const MAX_DEPTH = 512;

export function parseJsonWithPositions(text: string): ParsedJson {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const positionAt = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };

  const positions = new Map<string, Position>();
  // An editor may save a byte-order mark; it is not part of the JSON text.
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (reason: string, offset = at): never => {
    throw new JsonSyntaxError(reason, positionAt(offset));
  };
  const describe = (offset: number): string => {
    if (offset >= text.length) return 'the end of the file';
    const ch = text[offset]!;
    return /\s/.test(ch) ? `character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : `'${ch}'`;
  };

  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === 32 || c === 9 || c === 10 || c === 13) at++;
      else if (c === 47 && (text[at + 1] === '/' || text[at + 1] === '*')) fail('comments are not allowed in JSON');
      else return;
    }
  };

  const parseString = (): string => {
    const start = at;
    at++; // opening quote
    let out = '';
    let chunk = at;
    for (;;) {
      if (at >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(at);
      if (c === 34) {
        out += text.slice(chunk, at);
        at++;
        return out;
      }
      if (c < 0x20)
        fail(c === 10 ? 'unterminated string (a line break inside a string must be written \\n)' : 'control character inside a string must be escaped');
      if (c !== 92) {
        at++;
        continue;
      }
      out += text.slice(chunk, at);
      const esc = text[at + 1];
      switch (esc) {
        case '"':
        case '\\':
        case '/':
          out += esc;
          at += 2;
          break;
        case 'b':
          out += '\b';
          at += 2;
          break;
        case 'f':
          out += '\f';
          at += 2;
          break;
        case 'n':
          out += '\n';
          at += 2;
          break;
        case 'r':
          out += '\r';
          at += 2;
          break;
        case 't':
          out += '\t';
          at += 2;
          break;
        case 'u': {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape: expected 4 hex digits');
          out += String.fromCharCode(parseInt(hex, 16));
          at += 6;
          break;
        }
        default:
          fail(`invalid escape \\${esc ?? ''} in string`);
      }
      chunk = at;
    }
  };

  const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const parseNumber = (): number => {
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) return fail(`unexpected ${describe(at)}: expected a value`);
    const after = text[at + m[0].length];
    if (after !== undefined && /[0-9.eE+-]/.test(after)) fail(`invalid number ${JSON.stringify(text.slice(at, at + m[0].length + 1))}`);
    at += m[0].length;
    return Number(m[0]);
  };

  const literal = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return fail(`unexpected ${describe(at)}: expected a value`);
  };

  const parseValue = (path: PropertyKey[], depth: number): unknown => {
    skipWhitespace();
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    positions.set(formatPath(path), positionAt(at));
    const ch = text[at];
    switch (ch) {
      case '{':
        return parseObject(path, depth);
      case '[':
        return parseArray(path, depth);
      case '"':
        return parseString();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      case "'":
        return fail('strings must use double quotes ("), not \'');
      default:
        if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return parseNumber();
        return fail(`unexpected ${describe(at)}: expected a value`);
    }
  };

  const parseObject = (path: PropertyKey[], depth: number): Record<string, unknown> => {
    at++;
    // No prototype, so a key named "__proto__" is stored as data like JSON.parse does.
    const out: Record<string, unknown> = Object.create(null);
    skipWhitespace();
    if (text[at] === '}') {
      at++;
      return out;
    }
    for (;;) {
      skipWhitespace();
      if (text[at] !== '"') {
        if (text[at] === '}') fail("trailing comma before '}' is not allowed in JSON");
        if (text[at] === "'") fail('property names must use double quotes ("), not \'');
        fail(`unexpected ${describe(at)}: expected a property name in double quotes`);
      }
      const key = parseString();
      skipWhitespace();
      if (text[at] !== ':') fail(`unexpected ${describe(at)}: expected ':' after property name "${key}"`);
      at++;
      out[key] = parseValue([...path, key], depth + 1);
      skipWhitespace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '}') {
        at++;
        return out;
      }
      fail(`unexpected ${describe(at)}: expected ',' or '}' after the value of "${key}"`);
    }
  };

  const parseArray = (path: PropertyKey[], depth: number): unknown[] => {
    at++;
    const out: unknown[] = [];
    skipWhitespace();
    if (text[at] === ']') {
      at++;
      return out;
    }
    for (;;) {
      skipWhitespace();
      if (text[at] === ']') fail("trailing comma before ']' is not allowed in JSON");
      out.push(parseValue([...path, out.length], depth + 1));
      skipWhitespace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === ']') {
        at++;
        return out;
      }
      fail(`unexpected ${describe(at)}: expected ',' or ']' after an array element`);
    }
  };

  skipWhitespace();
  if (at >= text.length) fail('the file is empty: expected a JSON object');
  const value = parseValue([], 0);
  skipWhitespace();
  if (at < text.length) fail(`unexpected ${describe(at)} after the end of the JSON value`);
  return { value: toPlain(value), positions };
}

/** Null-prototype objects become ordinary ones, so callers see what JSON.parse would give. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty, because assigning "__proto__" would change the prototype instead of storing the key.
      Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/**
 * The position of `path`, or of its nearest ancestor that exists: a missing
 * field is reported where its parent object starts.
 */
export function positionOf(positions: ReadonlyMap<string, Position>, path: string): Position | undefined {
  let p = path;
  for (;;) {
    const found = positions.get(p);
    if (found) return found;
    if (p === '') return undefined;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut <= 0 ? '' : p.slice(0, cut);
  }
}
