/**
 * Validates a SARIF log against the OASIS SARIF 2.1.0 JSON schema, as shipped
 * by @microsoft/jest-sarif (its sarif-2.1.0-rtm.5.json, draft-04, hence
 * ajv-draft-04). Only the schema file is read; none of that package's code runs.
 */
import { createRequire } from 'node:module';

// Both are CommonJS with a `default` export that TypeScript's ESM interop does not see through.
const require = createRequire(import.meta.url);
const Ajv = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;

// strict: false, as the schema has keywords ajv's strict mode refuses; unicodeRegExp: false, as its
// "language" pattern (^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$) has a stray ']' that only non-unicode regexps accept.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

/** The schema violations of `log`, one line each; empty when valid. */
export function sarifSchemaErrors(log: unknown): string[] {
  if (validate(log)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? 'invalid'}`);
}
