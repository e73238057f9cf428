import type { IncomingHttpHeaders } from 'node:http';
import type { SimError } from '../errors.ts';

/** The AWS wire protocols the SDK clients the functions use speak. */
export type ProtocolName = 'awsJson1_0' | 'awsJson1_1' | 'awsQuery';

export interface WireRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WireReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Which registered service a request is for, in the protocol's own terms, and which operation. */
export interface Route {
  /** JSON: the x-amz-target prefix; query: the API Version. Services register under the same key. */
  serviceKey: string;
  op: string;
}

export interface ProtocolCodec {
  name: ProtocolName;
  /** undefined when the request is not in this protocol */
  route(req: WireRequest): Route | undefined;
  /** Throws SimError('SerializationException') on a body the real service would reject. */
  decode(req: WireRequest): unknown;
  encodeResult(output: unknown, requestId: string): WireReply;
  encodeError(error: SimError, requestId: string): WireReply;
}
