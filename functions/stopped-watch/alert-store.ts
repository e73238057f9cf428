import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../shared/dynamo-store.ts';
import { ALERT_PREFIX, TRACKED_IDS_MAX, type AlertSample, type AlertWindow, type MessageKind } from './alerts.ts';

/**
 * The alert windows in the single table. Each method is one conditional
 * DynamoDB write (or a read) and answers false when its condition did not
 * hold; the decisions about which to call live in alerts.ts and watch.ts.
 * Increments need `ADD`/`x = x + 1`, which the shared Store's SET-only
 * update cannot express, hence this adapter.
 */
export interface AlertStore {
  get(id: string): Promise<AlertWindow | undefined>;
  /** The burst fast path, without a read: count the event into a running window that has not seen its id and still has room for it. */
  countTracked(id: string, eventId: string, sample: AlertSample, now: number): Promise<boolean>;
  /** Counts without remembering the id (the window holds TRACKED_IDS_MAX already). */
  countUntracked(id: string, eventId: string, sample: AlertSample, now: number): Promise<boolean>;
  /** Writes a new window, when there is no record (expectVersion undefined) or the record is still the one that was read. */
  open(window: AlertWindow, expectVersion: number | undefined): Promise<boolean>;
  claim(id: string, expectVersion: number, claim: { owner: string; until: number; count: number; kind: MessageKind }): Promise<boolean>;
  /** The claimed message went out: it covers `sent` events. */
  confirm(id: string, owner: string, sent: number): Promise<boolean>;
  /** The claimed message could not be published; the next flush tries again. */
  release(id: string, owner: string): Promise<boolean>;
  /** Gives up on the pending messages of a window (after MAX_SEND_FAILURES). */
  abandon(id: string, expectVersion: number, sent: number): Promise<boolean>;
  /** Windows that may owe a message: first alert unconfirmed, or more counted than sent. */
  scanPending(): AsyncIterable<AlertWindow>;
}

/** true when the conditional write happened, false when its condition did not hold. */
const conditionalWrite = async (write: () => Promise<unknown>): Promise<boolean> => (await conditional(write)) !== false;

// Every attribute name goes through a placeholder: `count`, `first` and `last` are DynamoDB reserved words.
const N = {
  '#count': 'count',
  '#version': 'version',
  '#windowEnd': 'windowEnd',
  '#ids': 'eventIds',
  '#last': 'last',
} as const;

/** Optional fields stay unset instead of failing the write, whatever the client's marshallOptions. */
function defined<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key] = v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype ? defined(v) : v;
  }
  return out as T;
}

/** What the flush reads of a window: all of it but the event ids. */
const SCANNED = [
  'id', 'cluster', 'service', 'isService', 'category', 'severity', 'region', 'windowStart', 'windowEnd', 'count', 'carried', 'sent', 'firstSent',
  'claimOwner', 'claimUntil', 'claimCount', 'claimKind', 'failures', 'version', 'first', 'last', 'expiration',
] as const satisfies ReadonlyArray<Exclude<keyof AlertWindow, 'eventIds'>>;

const CLAIM_ATTRIBUTES = 'claimOwner, claimUntil, claimCount, claimKind';

export function createAlertStore(doc: DynamoDBDocumentClient, tableName: string): AlertStore {
  const update = (input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) => conditionalWrite(() => doc.send(new UpdateCommand({ TableName: tableName, ...input })));

  return {
    async get(id) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }));
      return out.Item as AlertWindow | undefined;
    },

    countTracked(id, eventId, sample, now) {
      return update({
        Key: { id },
        UpdateExpression: 'SET #count = #count + :one, #version = #version + :one, #last = :sample ADD #ids :ids',
        ConditionExpression: '#windowEnd > :now AND NOT contains(#ids, :eid) AND size(#ids) < :cap',
        ExpressionAttributeNames: N,
        ExpressionAttributeValues: { ':one': 1, ':sample': defined(sample), ':ids': new Set([eventId]), ':now': now, ':eid': eventId, ':cap': TRACKED_IDS_MAX },
      });
    },

    countUntracked(id, eventId, sample, now) {
      return update({
        Key: { id },
        UpdateExpression: 'SET #count = #count + :one, #version = #version + :one, #last = :sample',
        ConditionExpression: '#windowEnd > :now AND NOT contains(#ids, :eid)',
        ExpressionAttributeNames: N,
        ExpressionAttributeValues: { ':one': 1, ':sample': defined(sample), ':now': now, ':eid': eventId },
      });
    },

    open(window, expectVersion) {
      return conditionalWrite(() =>
        doc.send(
          new PutCommand({
            TableName: tableName,
            Item: defined(window),
            ConditionExpression: expectVersion === undefined ? 'attribute_not_exists(id)' : '#version = :v',
            ExpressionAttributeNames: expectVersion === undefined ? undefined : { '#version': 'version' },
            ExpressionAttributeValues: expectVersion === undefined ? undefined : { ':v': expectVersion },
          }),
        ),
      );
    },

    claim(id, expectVersion, claim) {
      return update({
        Key: { id },
        UpdateExpression: 'SET claimOwner = :owner, claimUntil = :until, claimCount = :count, claimKind = :kind, #version = #version + :one',
        ConditionExpression: '#version = :v',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':owner': claim.owner, ':until': claim.until, ':count': claim.count, ':kind': claim.kind, ':v': expectVersion, ':one': 1 },
      });
    },

    confirm(id, owner, sent) {
      return update({
        Key: { id },
        UpdateExpression: `SET sent = :sent, firstSent = :true, failures = :zero, #version = #version + :one REMOVE ${CLAIM_ATTRIBUTES}`,
        ConditionExpression: 'claimOwner = :owner',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':sent': sent, ':true': true, ':zero': 0, ':one': 1, ':owner': owner },
      });
    },

    release(id, owner) {
      return update({
        Key: { id },
        UpdateExpression: `SET failures = failures + :one, #version = #version + :one REMOVE ${CLAIM_ATTRIBUTES}`,
        ConditionExpression: 'claimOwner = :owner',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':one': 1, ':owner': owner },
      });
    },

    abandon(id, expectVersion, sent) {
      return update({
        Key: { id },
        UpdateExpression: `SET sent = :sent, firstSent = :true, failures = :zero, #version = #version + :one REMOVE ${CLAIM_ATTRIBUTES}`,
        ConditionExpression: '#version = :v',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':sent': sent, ':true': true, ':zero': 0, ':one': 1, ':v': expectVersion },
      });
    },

    async *scanPending() {
      const names = Object.fromEntries(SCANNED.map((name, i) => [`#a${i}`, name]));
      const at = (name: (typeof SCANNED)[number]) => `#a${SCANNED.indexOf(name)}`;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: tableName,
            // A filter does not lower the read cost (a Scan reads every item), but it and the
            // projection (everything but the id set) keep the replies and this loop small.
            FilterExpression: `begins_with(${at('id')}, :prefix) AND (${at('firstSent')} = :false OR ${at('count')} > ${at('sent')})`,
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':prefix': ALERT_PREFIX, ':false': false },
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) yield item as AlertWindow;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    },
  };
}
