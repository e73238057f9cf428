import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJsonWithPositions, positionOf } from '../../functions/audit/json-source.ts';

const syntaxError = (text: string): JsonSyntaxError => {
  try {
    parseJsonWithPositions(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error('expected a syntax error');
};

describe('parseJsonWithPositions', () => {
  it('returns what JSON.parse returns, for any JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        expect(parseJsonWithPositions(text).value).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps "__proto__" as an ordinary key, like JSON.parse', () => {
    const { value } = parseJsonWithPositions('{"__proto__": {"polluted": true}}');
    expect(Object.keys(value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('records where each value starts, by path', () => {
    const text = [
      '{',
      '  "family": "web",',
      '  "containerDefinitions": [',
      '    { "name": "app",',
      '      "healthCheck": { "command": ["CMD", "true"] } }',
      '  ]',
      '}',
    ].join('\n');
    const { positions } = parseJsonWithPositions(text);
    expect(positions.get('')).toEqual({ line: 1, column: 1 });
    expect(positions.get('family')).toEqual({ line: 2, column: 13 });
    expect(positions.get('containerDefinitions[0]')).toEqual({ line: 4, column: 5 });
    expect(positions.get('containerDefinitions[0].healthCheck.command')).toEqual({ line: 5, column: 35 });
    expect(positions.get('containerDefinitions[0].healthCheck.command[1]')).toEqual({ line: 5, column: 43 });
  });

  it('finds the nearest existing parent of a missing path', () => {
    const { positions } = parseJsonWithPositions('{\n  "containerDefinitions": [\n    {"name": "app"}\n  ]\n}');
    expect(positionOf(positions, 'containerDefinitions[0].stopTimeout')).toEqual({ line: 3, column: 5 });
    expect(positionOf(positions, 'memory')).toEqual({ line: 1, column: 1 });
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, "trailing comma before '}' is not allowed in JSON"],
    ['[1, 2,]', 1, 7, "trailing comma before ']' is not allowed in JSON"],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, `unexpected '"': expected ',' or '}' after the value of "a"`],
    ["{'a': 1}", 1, 2, 'property names must use double quotes ("), not \''],
    ['{"a": 1, b: 2}', 1, 10, "unexpected 'b': expected a property name in double quotes"],
    ['{"a": \'x\'}', 1, 7, 'strings must use double quotes ("), not \''],
    ['{\n  // comment\n  "a": 1}', 2, 3, 'comments are not allowed in JSON'],
    ['{"a": "unterminated}', 1, 7, 'unterminated string'],
    ['{"a": "line\nbreak"}', 1, 12, 'unterminated string (a line break inside a string must be written \\n)'],
    ['{"a": 01}', 1, 7, 'invalid number "01"'],
    ['{"a": tru}', 1, 7, "unexpected 't': expected a value"],
    ['{"a": 1} {"b": 2}', 1, 10, "unexpected '{' after the end of the JSON value"],
    ['   \n', 2, 1, 'the file is empty: expected a JSON object'],
    ['{"a": "\\x"}', 1, 8, 'invalid escape \\x in string'],
  ])('reports %j at line %i, column %i', (text, line, column, reason) => {
    const error = syntaxError(text);
    expect({ line: error.line, column: error.column, reason: error.reason }).toEqual({ line, column, reason });
  });

  it('skips a byte-order mark', () => {
    expect(parseJsonWithPositions('\uFEFF{"a": 1}').value).toEqual({ a: 1 });
  });

  it('refuses nesting deep enough to overflow the stack', () => {
    expect(syntaxError('['.repeat(10_000)).reason).toBe('nesting deeper than 512 levels');
  });
});
