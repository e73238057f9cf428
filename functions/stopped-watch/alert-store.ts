import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  absent,
  CLAIM_FIELDS,
  createStore,
  lease,
  release,
  versionIs,
  type Change,
  type Condition,
  type Done,
  type Store,
  type Written,
} from '../shared/store.ts';
import { ALERT_PREFIX, TRACKED_IDS_MAX, type AlertSample, type AlertWindow, type MessageKind } from './alerts.ts';

/**
 * The alert windows in the single table, on the storage core. Each method is
 * one conditional write (or a read) and answers a named result; the decisions
 * about which to call live in alerts.ts and watch.ts. No update asks for the
 * window back: its callers only need to know the write happened, and a window
 * carries up to TRACKED_IDS_MAX event ids.
 */
export interface AlertStore {
  get(id: string): Promise<AlertWindow | undefined>;
  /** The burst fast path, without a read: count the event into a running window that has not seen its id and still has room for it. */
  countTracked(id: string, eventId: string, sample: AlertSample, now: number): Promise<Done>;
  /** Counts without remembering the id (the window holds TRACKED_IDS_MAX already). */
  countUntracked(id: string, eventId: string, sample: AlertSample, now: number): Promise<Done>;
  /** Writes a new window, when there is no record (expectVersion undefined) or the record is still the one that was read; refused `exists` or `stale`. */
  open(window: AlertWindow, expectVersion: number | undefined): Promise<Written<AlertWindow>>;
  /** Takes the window's message for one owner; refused `stale` when the window changed since it was read. */
  claim(id: string, expectVersion: number, claim: { owner: string; until: number; count: number; kind: MessageKind }): Promise<Done>;
  /** The claimed message went out: it covers `sent` events. Refused `not-owner` when the claim was lost meanwhile. */
  confirm(id: string, owner: string, sent: number): Promise<Done>;
  /** The claimed message could not be published; the next flush tries again. */
  release(id: string, owner: string): Promise<Done>;
  /** Gives up on the pending messages of a window (after MAX_SEND_FAILURES). */
  abandon(id: string, expectVersion: number, sent: number): Promise<Done>;
  /** Windows that may owe a message: first alert unconfirmed, or more counted than sent. */
  scanPending(): AsyncIterable<AlertWindow>;
}

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
  'id',
  'cluster',
  'service',
  'isService',
  'category',
  'severity',
  'region',
  'windowStart',
  'windowEnd',
  'count',
  'carried',
  'sent',
  'firstSent',
  'claimOwner',
  'claimUntil',
  'claimCount',
  'claimKind',
  'failures',
  'version',
  'first',
  'last',
  'expiration',
] as const satisfies ReadonlyArray<Exclude<keyof AlertWindow, 'eventIds'>>;

const ONE_MORE_VERSION = { version: 1 };
/** What a confirmed or abandoned message leaves: `sent` events are covered, the failures forgotten. */
const covered = (sent: number): Change => ({ set: { sent, firstSent: true, failures: 0 }, increment: ONE_MORE_VERSION, remove: ['claimCount', 'claimKind'] });

/** A running window (not ended at `now`) that has not counted `eventId` yet. */
const countable = (eventId: string, now: number, cap?: number): Condition => ({
  expression: `#windowEnd > :now AND NOT contains(#ids, :eid)${cap === undefined ? '' : ' AND size(#ids) < :cap'}`,
  names: { '#windowEnd': 'windowEnd', '#ids': 'eventIds' },
  values: { ':now': now, ':eid': eventId, ...(cap === undefined ? {} : { ':cap': cap }) },
  refusal: 'condition-failed',
});

const counted = (sample: AlertSample): Change => ({ increment: { count: 1, version: 1 }, set: { last: defined(sample) } });

export function createAlertStore(doc: DynamoDBDocumentClient, tableName: string): AlertStore {
  return alertStoreOn(createStore(doc, tableName));
}

export function alertStoreOn(store: Store): AlertStore {
  return {
    get: (id) => store.get<AlertWindow>(id),

    countTracked: (id, eventId, sample, now) =>
      store.update(id, { ...counted(sample), add: { eventIds: new Set([eventId]) } }, countable(eventId, now, TRACKED_IDS_MAX)),

    countUntracked: (id, eventId, sample, now) => store.update(id, counted(sample), countable(eventId, now)),

    open: (window, expectVersion) => store.put(defined(window), expectVersion === undefined ? absent : versionIs(expectVersion)),

    claim: (id, expectVersion, claim) =>
      lease(store, id, CLAIM_FIELDS, claim, { set: { claimCount: claim.count, claimKind: claim.kind }, increment: ONE_MORE_VERSION }, versionIs(expectVersion)),

    confirm: (id, owner, sent) => release(store, id, CLAIM_FIELDS, owner, covered(sent)),

    release: (id, owner) => release(store, id, CLAIM_FIELDS, owner, { increment: { failures: 1, version: 1 }, remove: ['claimCount', 'claimKind'] }),

    abandon: (id, expectVersion, sent) =>
      store.update(id, { ...covered(sent), remove: ['claimOwner', 'claimUntil', 'claimCount', 'claimKind'] }, versionIs(expectVersion)),

    // The projection (everything but the id set) keeps the replies and the flush loop small.
    scanPending: () =>
      store.scan<AlertWindow>(ALERT_PREFIX, {
        filter: {
          expression: '#firstSent = :false OR #count > #sent',
          names: { '#firstSent': 'firstSent', '#count': 'count', '#sent': 'sent' },
          values: { ':false': false },
        },
        projection: SCANNED,
      }),
  };
}
