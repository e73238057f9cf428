import { SimError } from './errors.ts';

// Opaque to callers, like the real nextToken; it only has to survive a round trip.
export const encodeToken = (after: number): string => Buffer.from(JSON.stringify({ after })).toString('base64url');

/** The position a nextToken resumes after; -1 for the first page. ECS answers a token it did not issue with InvalidParameterException. */
export function decodeToken(token: string | undefined): number {
  if (token === undefined) return -1;
  try {
    const after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).after;
    if (Number.isInteger(after)) return after;
  } catch {
    // fall through
  }
  throw new SimError('InvalidParameterException', 'Invalid nextToken.');
}
