import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.ts';

// Keys Powertools Logger writes itself, and Logs Insights' own fields.
const BUILT_IN = new Set(['level', 'message', 'service', 'timestamp', 'function_request_id', 'cold_start', 'function_name', 'xray_trace_id']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every property name written in an object literal in functions/: the keys a log line can carry. */
function objectKeys(): Set<string> {
  const keys = new Set<string>();
  for (const file of sourceFiles(join(repoRoot, 'functions'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2023, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)))
        keys.add(node.name.text);
      if (ts.isPropertySignature(node) && ts.isIdentifier(node.name)) keys.add(node.name.text);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return keys;
}

/** The Logs Insights queries of the README's runbooks: the code blocks there that start with `fields`. */
function runbookQueries(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('### Runbooks');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  return [...section.matchAll(/```\n(fields [\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The log fields a query reads: in fields, filter, stats and sort, without functions, aliases, literals and @fields. */
function fieldsOf(query: string): string[] {
  const fields = new Set<string>();
  for (const line of query.split('\n')) {
    const [command, ...rest] = line.replace(/^\s*\|?\s*/, '').split(' ');
    if (!['fields', 'filter', 'stats', 'sort'].includes(command!)) continue;
    const text = rest
      .join(' ')
      .replace(/"[^"]*"|\/[^/]*\//g, ' ')
      .replace(/\bas \w+/g, ' ')
      .replace(/\b(latest|max|min|count|sum|avg)\(/g, ' ');
    for (const token of text.match(/@?[A-Za-z][\w.-]*/g) ?? []) {
      if (token.startsWith('@') || ['and', 'or', 'like', 'by', 'asc', 'desc', 'not', 'in'].includes(token)) continue;
      fields.add(token);
    }
  }
  // Aliases defined by `as` may be sorted on; they are not log fields.
  for (const alias of query.matchAll(/\bas (\w+)/g)) fields.delete(alias[1]!);
  return [...fields];
}

describe('README runbooks', () => {
  const queries = runbookQueries();
  const keys = objectKeys();

  it('has a Logs Insights query for each runbook', () => {
    expect(queries.length).toBeGreaterThanOrEqual(4);
  });

  it('reads only fields the code logs (every path segment is a key the functions write)', () => {
    const unknown: string[] = [];
    for (const query of queries) {
      for (const field of fieldsOf(query)) {
        for (const segment of field.split('.')) {
          // error.name / error.message: Powertools serializes an Error with these keys.
          if (BUILT_IN.has(segment) || segment === 'name' || segment === 'message' || segment === 'detail-type') continue;
          if (!keys.has(segment)) unknown.push(`${field} (${segment})`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('would catch a misspelt field', () => {
    expect(fieldsOf('fields @timestamp, instanceID\n| filter actionId = "x"')).toEqual(['instanceID', 'actionId']);
    expect(keys.has('instanceID')).toBe(false);
    expect(keys.has('instanceId')).toBe(true);
  });
});
