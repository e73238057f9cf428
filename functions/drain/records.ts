import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KnownTasks } from './done.ts';
import {
  allOf,
  anyOf,
  CLAIM_FIELDS,
  createStore,
  inState,
  lease,
  present,
  putIfAbsent,
  release,
  RETURN_ITEM,
  type Condition,
  type Done,
  type Item,
  type Store,
  type Written,
} from '../shared/store.ts';

/**
 * Drain state in the single table. Two kinds of item:
 *
 * - `drain#<asg>#<instance id>#<token>`: one per lifecycle action, created with
 *   a conditional write so that a duplicated delivery creates nothing.
 * - `drain-ci#<container instance ARN>`: points an ECS event at the open
 *   action of its container instance; deleted when the action closes.
 *
 * Finding the open actions for the reconcile tick is a Scan filtered on the
 * `drain#` prefix. The table is small (locks, drain records, alert windows,
 * all with a TTL) and a Scan of a few thousand items is a few dozen read units
 * a minute; an index item listing the open actions would have to be kept in
 * step with the records by a second write that can fail on its own, and a
 * record missed by the index would never be reconciled. The Scan cannot miss one.
 */

export type DrainState = 'open' | 'completing' | 'closed';
export type LifecycleResult = 'CONTINUE' | 'ABANDON';

export interface DrainRecord extends Item {
  state: DrainState;
  asg: string;
  instanceId: string;
  token: string;
  /** Found by the tick in Terminating:Wait without its event: the token is unknown, so calls name the instance alone. */
  adopted?: boolean;
  hookName: string;
  origin?: string;
  destination?: string;
  /** epoch ms the lifecycle action began */
  startedAt: number;
  /** epoch ms of the last heartbeat (the start until the first one) */
  heartbeatAt: number;
  heartbeats: number;
  cluster?: string;
  containerInstanceArn?: string;
  drainingAt?: number;
  preflightDone?: boolean;
  /** ids of the tasks that blocked the last done check */
  outstanding?: Set<string>;
  /** What the checks learnt of each task (by task id), so that later checks describe only what may have changed. */
  knownTasks?: KnownTasks;
  /** ids of the tasks whose STOPPED event was seen */
  stoppedSeen?: Set<string>;
  /** highest Container Instance State Change `detail.version` handled */
  ciVersion?: number;
  /** daemon and ignored tasks still RUNNING at the last check, which a drained instance keeps */
  excludedRunning?: number;
  checks: number;
  /** epoch ms of the last done check that did not complete the drain */
  checkedAt?: number;
  /** ECS and Auto Scaling calls made for this action so far */
  apiCalls: number;
  /** While completing: who claimed it, until when, and with what. */
  claimOwner?: string;
  claimUntil?: number;
  pendingResult?: LifecycleResult;
  pendingOutcome?: string;
  outcome?: string;
  result?: LifecycleResult;
  closedAt?: number;
  reason?: string;
}

export interface DrainIndex extends Item {
  actionId: string;
}

export const RECORD_PREFIX = 'drain#';
export const actionIdOf = (asg: string, instanceId: string, token: string): string => `${RECORD_PREFIX}${asg}#${instanceId}#${token}`;
export const indexIdOf = (containerInstanceArn: string): string => `drain-ci#${containerInstanceArn}`;

export interface DrainRecords {
  /** Refused `exists` when a record with this id exists already. */
  create(record: DrainRecord): Promise<Written<DrainRecord>>;
  get(id: string): Promise<DrainRecord | undefined>;
  /** Sets attributes while the record is open (or completing, with `evenIfCompleting`); refused `wrong-state` when it is not. */
  update(id: string, set: Partial<DrainRecord>, opts?: { remove?: Array<keyof DrainRecord>; evenIfCompleting?: boolean }): Promise<Written<DrainRecord>>;
  /** Adds to numeric counters, whatever the state. */
  increment(id: string, counters: Partial<Record<'apiCalls' | 'heartbeats' | 'checks', number>>): Promise<void>;
  /** Records a STOPPED task; refused for a duplicate or a record that is not open. */
  addStopped(id: string, taskId: string): Promise<Written<DrainRecord>>;
  /** Records a container instance event version; refused for an older or duplicated one, or a record that is not open. */
  advanceCiVersion(id: string, version: number): Promise<Written<DrainRecord>>;
  /** open (or completing, stale) → completing, for one owner; refused `held` when someone else holds it or it is closed. */
  claim(id: string, claim: { owner: string; until: number; now: number; result: LifecycleResult; outcome: string }): Promise<Written<DrainRecord>>;
  /** completing → open again, after a completion that failed and should be retried. */
  release(id: string, owner: string): Promise<void>;
  /** completing → closed, by the owner of the claim. */
  close(id: string, owner: string, fields: Partial<DrainRecord>): Promise<Done>;
  /** Every record not closed yet. */
  listOpen(): AsyncIterable<DrainRecord>;
  putIndex(containerInstanceArn: string, actionId: string, expiration: number): Promise<void>;
  getIndex(containerInstanceArn: string): Promise<DrainIndex | undefined>;
  deleteIndex(containerInstanceArn: string, actionId: string): Promise<void>;
}

const OPEN = inState('open');
const COMPLETING = inState('completing');
/** What a claim leaves behind, which the end of the claim removes. */
const PENDING = ['pendingResult', 'pendingOutcome'] satisfies Array<keyof DrainRecord>;

export function createDrainRecords(doc: DynamoDBDocumentClient, tableName: string): DrainRecords {
  return drainRecordsOn(createStore(doc, tableName));
}

/**
 * The drain's records on the storage core: each method is one call of the
 * Store. The writes whose callers go on with the record (update, addStopped,
 * advanceCiVersion, claim) bring it back; the others do not ask for it.
 */
export function drainRecordsOn(store: Store): DrainRecords {
  return {
    create: (record) => putIfAbsent(store, record),

    get: (id) => store.get<DrainRecord>(id),

    async update(id, set, opts = {}) {
      const remove = (opts.remove ?? []) as string[];
      if (!Object.values(set).some((value) => value !== undefined) && !remove.length) {
        const record = await store.get<DrainRecord>(id);
        return record ? { ok: true, item: record } : { ok: false, reason: 'missing' };
      }
      return store.update<DrainRecord>(id, { set, remove }, opts.evenIfCompleting ? inState('open', 'completing') : OPEN, RETURN_ITEM);
    },

    async increment(id, counters) {
      const add = Object.fromEntries(Object.entries(counters).filter(([, n]) => n));
      if (!Object.keys(add).length) return;
      // present: a late increment must not resurrect a record that TTL already removed.
      await store.update(id, { add }, present);
    },

    addStopped: (id, taskId) =>
      store.update<DrainRecord>(
        id,
        { add: { stoppedSeen: new Set([taskId]) } },
        allOf([OPEN, { expression: 'NOT contains(stoppedSeen, :task)', values: { ':task': taskId } }]),
        RETURN_ITEM,
      ),

    advanceCiVersion: (id, version) =>
      store.update<DrainRecord>(
        id,
        { set: { ciVersion: version } },
        allOf([OPEN, { expression: 'attribute_not_exists(ciVersion) OR ciVersion < :version', values: { ':version': version } }]),
        RETURN_ITEM,
      ),

    claim(id, claim) {
      // A claim outlives the invocation that took it; one left by an invocation that died lapses at claimUntil.
      const lapsed: Condition = { expression: 'claimUntil < :now', values: { ':now': claim.now } };
      const free = anyOf([OPEN, allOf([COMPLETING, lapsed])], 'held');
      return lease<DrainRecord>(
        store,
        id,
        CLAIM_FIELDS,
        claim,
        { set: { state: 'completing', pendingResult: claim.result, pendingOutcome: claim.outcome } },
        free,
        RETURN_ITEM,
      );
    },

    async release(id, owner) {
      await release(store, id, CLAIM_FIELDS, owner, { set: { state: 'open' }, remove: PENDING }, COMPLETING);
    },

    close: (id, owner, fields) =>
      release(store, id, CLAIM_FIELDS, owner, { set: { ...fields, state: 'closed' }, remove: [...PENDING, 'outstanding', 'knownTasks'] }, COMPLETING),

    listOpen: () =>
      store.scan<DrainRecord>(RECORD_PREFIX, { filter: { expression: '#state <> :closed', names: { '#state': 'state' }, values: { ':closed': 'closed' } } }),

    async putIndex(containerInstanceArn, actionId, expiration) {
      await store.put({ id: indexIdOf(containerInstanceArn), actionId, expiration });
    },

    getIndex: (containerInstanceArn) => store.get<DrainIndex>(indexIdOf(containerInstanceArn)),

    async deleteIndex(containerInstanceArn, actionId) {
      // Only our own pointer: a newer action on the same container instance may have replaced it.
      await store.delete(indexIdOf(containerInstanceArn), { expression: 'actionId = :a', values: { ':a': actionId }, refusal: 'not-owner' });
    },
  };
}
