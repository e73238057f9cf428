import { SimError } from '../errors.ts';
import type { ProtocolCodec, WireRequest } from './types.ts';

/**
 * awsJson1_0 / awsJson1_1: POST / with `x-amz-target: <ServicePrefix>.<Operation>`
 * and a JSON body both ways. The SDK (loadJsonRpcErrorCode in @smithy/core)
 * names an error from the body's `__type` first, then `code`, then the
 * `x-amzn-errortype` header, keeping only the part after `#` and before `:`.
 * We send the bare name in both places, as ECS does.
 */
export function jsonProtocol(version: '1.0' | '1.1'): ProtocolCodec {
  const contentType = `application/x-amz-json-${version}`;
  const reply = (status: number, requestId: string, payload: unknown, extra: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId, ...extra },
    body: JSON.stringify(payload),
  });

  return {
    name: version === '1.0' ? 'awsJson1_0' : 'awsJson1_1',

    route(req: WireRequest) {
      const type = String(req.headers['content-type'] ?? '');
      const target = req.headers['x-amz-target'];
      if (!type.startsWith(contentType) || typeof target !== 'string') return undefined;
      const dot = target.lastIndexOf('.');
      if (dot <= 0) return undefined;
      return { serviceKey: target.slice(0, dot), op: target.slice(dot + 1) };
    },

    decode(req) {
      if (req.body.trim() === '') return {};
      try {
        const input = JSON.parse(req.body);
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('not an object');
        return input;
      } catch {
        throw new SimError('SerializationException', 'Start of structure or map found where not expected.');
      }
    },

    encodeResult: (output, requestId) => reply(200, requestId, output ?? {}),

    encodeError: (error, requestId) => reply(error.httpStatus, requestId, { __type: error.code, message: error.message }, { 'x-amzn-errortype': error.code }),
  };
}
