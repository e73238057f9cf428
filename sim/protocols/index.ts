import { jsonProtocol } from './json.ts';
import { queryProtocol } from './query.ts';
import type { ProtocolCodec, ProtocolName } from './types.ts';

export type { ProtocolCodec, ProtocolName, Route, WireReply, WireRequest } from './types.ts';

/**
 * The codecs the server tries, in order, to recognise a request. awsQuery
 * services register under their API Version (Auto Scaling: 2011-01-01).
 */
export const codecs: Partial<Record<ProtocolName, ProtocolCodec>> = {
  awsJson1_0: jsonProtocol('1.0'),
  awsJson1_1: jsonProtocol('1.1'),
  awsQuery: queryProtocol(),
};
