/**
 * YAML with positions, for CloudFormation templates: the same `{ value,
 * positions }` as json-source.ts, so a finding points at its line in a YAML
 * template too.
 *
 * CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) become the
 * long form CloudFormation itself expands them to ({"Ref": ...},
 * {"Fn::GetAtt": [...]}), so the resolver only knows one form. The yaml
 * package leaves tags it does not know on the node; this walk reads them.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { formatPath } from '../shared/config.ts';
import { JsonSyntaxError, type ParsedJson, type Position } from './json-source.ts';

// Short forms from the CloudFormation template reference, "Intrinsic function reference".
const SHORT_FORMS = new Map<string, string>([
  ['!Ref', 'Ref'],
  ['!Condition', 'Condition'],
  ...[
    'Base64',
    'Cidr',
    'FindInMap',
    'GetAtt',
    'GetAZs',
    'ImportValue',
    'Join',
    'Select',
    'Split',
    'Sub',
    'Transform',
    'And',
    'Equals',
    'If',
    'Not',
    'Or',
    'ToJsonString',
    'Length',
  ].map((name): [string, string] => [`!${name}`, `Fn::${name}`]),
]);

export function parseYamlWithPositions(text: string): ParsedJson {
  const lineCounter = new LineCounter();
  // CloudFormation accepts YAML 1.1 documents, but reads values with the 1.2 core types: "yes" stays a string.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = lineCounter.linePos(first.pos[0]);
    throw new JsonSyntaxError(`invalid YAML: ${first.message.split('\n')[0]}`, { line: at.line, column: at.col });
  }
  const positions = new Map<string, Position>();
  const positionAt = (node: YamlNode): Position => {
    const at = lineCounter.linePos(node.range?.[0] ?? 0);
    return { line: at.line, column: at.col };
  };

  const walk = (node: unknown, path: PropertyKey[], depth: number): unknown => {
    if (depth > 512) throw new JsonSyntaxError('nesting deeper than 512 levels', positionAt(node as YamlNode));
    if (isAlias(node)) return walk(node.resolve(doc), path, depth + 1);
    if (node === null || node === undefined) return null;
    const n = node as YamlNode;
    positions.set(formatPath(path), positionAt(n));
    let value: unknown;
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        Object.defineProperty(out, key, { value: walk(pair.value, [...path, key], depth + 1), enumerable: true, writable: true, configurable: true });
      }
      value = out;
    } else if (isSeq(n)) {
      value = n.items.map((item, i) => walk(item, [...path, i], depth + 1));
    } else if (isScalar(n)) {
      value = n.value;
    } else {
      value = null;
    }
    const long = n.tag ? SHORT_FORMS.get(n.tag) : undefined;
    if (!long) return value;
    // "!GetAtt Resource.Attribute" is the one short form whose scalar splits into the long form's list.
    if (long === 'Fn::GetAtt' && typeof value === 'string') {
      const dot = value.indexOf('.');
      return { [long]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
    }
    return { [long]: value };
  };

  return { value: walk(doc.contents, [], 0), positions };
}
