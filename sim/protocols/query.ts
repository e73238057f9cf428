import type { SimError } from '../errors.ts';
import type { ProtocolCodec, WireRequest } from './types.ts';

/**
 * awsQuery (Auto Scaling, SNS): POST / with a form body
 * `Action=<Op>&Version=<api version>&Param=...`, where lists are
 * `Name.member.N` and structures `Name.Field`; replies are XML:
 * `<OpResponse><OpResult>…</OpResult><ResponseMetadata><RequestId>…` and, for
 * errors, `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`,
 * whose Code the SDK turns into the error name (AwsQueryProtocol in @aws-sdk/core).
 *
 * The codec's encodeResult does not learn the operation, so a query service's
 * handlers return `queryResult(op, fields)`; the element names come from it.
 */

const RESULT = Symbol('awsQuery result');

export interface QueryResult {
  [RESULT]: true;
  action: string;
  namespace: string;
  fields: Record<string, unknown>;
}

export const queryResult = (action: string, namespace: string, fields: Record<string, unknown> = {}): QueryResult => ({
  [RESULT]: true,
  action,
  namespace,
  fields,
});

const isQueryResult = (value: unknown): value is QueryResult => typeof value === 'object' && value !== null && RESULT in value;

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((item) => toXml('member', item)).join('')}</${name}>`;
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `A.member.2.B=x` → `{ A: [ , { B: 'x' } ] }`; `.member.N` indexes are 1-based. */
export function decodeForm(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const path = key.split('.');
    let node: any = root;
    for (let i = 0; i < path.length; i++) {
      const part = path[i]!;
      const last = i === path.length - 1;
      if (part === 'member') continue;
      const isIndex = /^\d+$/.test(part) && path[i - 1] === 'member';
      const slot: string | number = isIndex ? Number(part) - 1 : part;
      if (last) {
        node[slot] = value;
        break;
      }
      const nextIsList = path[i + 1] === 'member';
      node[slot] ??= nextIsList ? [] : {};
      node = node[slot];
    }
  }
  return root;
}

export function queryProtocol(): ProtocolCodec {
  const xml = (status: number, requestId: string, body: string) => ({
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0"?>\n${body}`,
  });

  return {
    name: 'awsQuery',

    route(req: WireRequest) {
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
      const params = new URLSearchParams(req.body);
      const action = params.get('Action');
      const version = params.get('Version');
      if (!action || !version) return undefined;
      return { serviceKey: version, op: action };
    },

    decode(req) {
      return decodeForm(new URLSearchParams(req.body));
    },

    encodeResult(output, requestId) {
      if (!isQueryResult(output)) throw new Error('sim: an awsQuery operation must return queryResult(action, namespace, fields)');
      const inner = Object.entries(output.fields)
        .map(([k, v]) => toXml(k, v))
        .join('');
      return xml(
        200,
        requestId,
        `<${output.action}Response xmlns="${output.namespace}"><${output.action}Result>${inner}</${output.action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${output.action}Response>`,
      );
    },

    encodeError(error: SimError, requestId) {
      const type = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
      return xml(
        error.httpStatus,
        requestId,
        `<ErrorResponse><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    },
  };
}
