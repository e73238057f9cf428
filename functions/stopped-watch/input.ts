import { createHash } from 'node:crypto';

/**
 * The shapes that invoke stopped-watch:
 * - an EventBridge event, delivered by one of its rules;
 * - an SNS notification (`Records[].Sns.Message` holding the event as a JSON
 *   string), for operators who route ECS events through a topic;
 * - the "Scheduled Event" of its flush rule.
 * Every record is judged on its own: one bad record never hides the others.
 */
export type Via = 'eventbridge' | 'sns';

export type InputRecord =
  | { index: number; via: Via; event: Record<string, unknown>; messageId?: string }
  | { index: number; via: Via; error: string; messageId?: string };

export type Invocation = { kind: 'flush' } | { kind: 'records'; records: InputRecord[] };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** What every event must have before anything can be said about it. */
function envelopeProblem(event: Record<string, unknown>): string | undefined {
  if (typeof event['detail-type'] !== 'string')
    return `"detail-type" is ${event['detail-type'] === undefined ? 'missing' : `not a string (${describe(event['detail-type'])})`}`;
  if (typeof event.source !== 'string') return `"source" is ${event.source === undefined ? 'missing' : `not a string (${describe(event.source)})`}`;
  if (!isObj(event.detail)) return `"detail" is ${event.detail === undefined ? 'missing' : `not an object (${describe(event.detail)})`}`;
  return undefined;
}

function asEvent(value: unknown, index: number, via: Via, what: string, messageId?: string): InputRecord {
  if (!isObj(value)) return { index, via, messageId, error: `${what} is not a JSON object (${describe(value)})` };
  const problem = envelopeProblem(value);
  return problem ? { index, via, messageId, error: `${what} is not an EventBridge event: ${problem}` } : { index, via, messageId, event: value };
}

function snsRecord(record: unknown, index: number): InputRecord {
  const where = `Records[${index}]`;
  if (!isObj(record)) return { index, via: 'sns', error: `${where} is not an object (${describe(record)})` };
  const sns = record.Sns;
  if (!isObj(sns))
    return {
      index,
      via: 'sns',
      error: `${where}.Sns is missing: not an SNS notification (EventSource ${JSON.stringify(record.EventSource ?? record.eventSource ?? null)})`,
    };
  const messageId = typeof sns.MessageId === 'string' ? sns.MessageId : undefined;
  if (typeof sns.Message !== 'string') return { index, via: 'sns', messageId, error: `${where}.Sns.Message is not a string (${describe(sns.Message)})` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(sns.Message);
  } catch (error) {
    return { index, via: 'sns', messageId, error: `${where}.Sns.Message is not JSON: ${(error as Error).message}` };
  }
  return asEvent(parsed, index, 'sns', `${where}.Sns.Message`, messageId);
}

export function parseInvocation(payload: unknown): Invocation {
  if (isObj(payload) && Array.isArray(payload.Records)) {
    return { kind: 'records', records: payload.Records.map((record, i) => snsRecord(record, i)) };
  }
  if (isObj(payload) && payload.source === 'aws.events' && payload['detail-type'] === 'Scheduled Event') return { kind: 'flush' };
  return { kind: 'records', records: [asEvent(payload, 0, 'eventbridge', 'the invocation payload')] };
}

/**
 * The identity of an event across duplicate deliveries: EventBridge keeps `id`
 * for every copy (and SNS relays it unchanged). A hand-made event without one
 * is identified by its content.
 */
export function eventIdOf(event: Record<string, unknown>): string {
  if (typeof event.id === 'string' && event.id.length > 0) return event.id;
  return `sha256:${createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 32)}`;
}
