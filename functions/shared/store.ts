/**
 * The storage core: one typed conditional-write layer over the single table.
 *
 * Two halves, after the split of Powertools Idempotency (an abstract layer
 * with the logic, one DynamoDB adapter, a record type with named states):
 *
 * - this file: the item and condition types, the `Store` port (five
 *   primitives) and the operations built on it (put-if-absent, claim, lease,
 *   release). No SDK import: it is pure logic over the port.
 * - dynamo-store.ts: the adapter, the one place that builds DynamoDB commands.
 *
 * Every write answers a named result. A condition carries the name of its
 * refusal (`exists`, `held`, `not-owner`, ...), so a write that did not happen
 * says why without a second read: one write is one DynamoDB call. An update
 * brings the item back only when its caller asks (`RETURN_ITEM`): the reply
 * of a window with hundreds of event ids is not worth its bytes to a caller
 * that only needs to know the write happened.
 */

/**
 * The single table: key `id` (string), TTL on `expiration` (epoch seconds).
 * The key and TTL names are the Powertools Idempotency defaults, so the same
 * table can serve it. Ids are prefixed by the record kind, e.g.
 * `lock#<job>#<occurrence>`.
 */
export interface Item {
  id: string;
  expiration?: number;
  [attribute: string]: unknown;
}

/** What the Store's generics ask of a record type: an id (a record interface needs no index signature). */
export interface Keyed {
  id: string;
  expiration?: number;
}

/** Why a conditional write did not happen. */
export type Refusal =
  /** an item with this id exists already */
  | 'exists'
  /** another owner's claim or lease on the item has not lapsed */
  | 'held'
  /** the item is not (or no longer) held by this owner, or is gone */
  | 'not-owner'
  /** the item changed since it was read (its version moved on) */
  | 'stale'
  /** the item is not in the state the write requires */
  | 'wrong-state'
  /** there is no item with this id */
  | 'missing'
  /** a condition that names no reason of its own */
  | 'condition-failed';

export type Refused = { ok: false; reason: Refusal };
/** A write that happened, with the item as it is after it. */
export type Written<T> = { ok: true; item: T } | Refused;
/** A write that happened, without the item (a delete, or an update that did not ask for it). */
export type Done = { ok: true } | Refused;

/** The option of an update whose caller reads the item after the write (DynamoDB `ReturnValues: ALL_NEW`). */
export interface ReturnItem {
  returnItem: true;
}
export const RETURN_ITEM: ReturnItem = { returnItem: true };

/**
 * A condition expression with its placeholders, and the name of what its
 * failure means. Attribute names go through `#` placeholders (many are
 * DynamoDB reserved words: state, owner, count, version, until).
 */
export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  refusal?: Refusal;
}

/**
 * What an update does to an item. `increment` is `x = x + n` (the attribute
 * must exist, or the write fails); `add` is DynamoDB's ADD (a missing number
 * counts from zero, a missing set starts empty). Undefined `set` values are left out.
 */
export interface Change {
  set?: Record<string, unknown>;
  increment?: Record<string, number>;
  add?: Record<string, number | Set<string>>;
  remove?: readonly string[];
}

export interface ScanOptions {
  /** ANDed with the id prefix. */
  filter?: Condition;
  /** The attributes to read; all of them without it. */
  projection?: readonly string[];
}

/** The port: five primitives, each one DynamoDB call (a scan, one per page). */
export interface Store {
  /** A strongly consistent read. */
  get<T extends Keyed>(id: string): Promise<T | undefined>;
  /** Writes the item when `condition` holds (or unconditionally without one). */
  put<T extends Keyed>(item: T, condition?: Condition): Promise<Written<T>>;
  /** Applies `change` when `condition` holds; DynamoDB returns nothing of the item. */
  update(id: string, change: Change, condition?: Condition): Promise<Done>;
  /** The same, and the item as it is after the write (one call still: `ReturnValues: ALL_NEW`). */
  update<T extends Keyed>(id: string, change: Change, condition: Condition | undefined, options: ReturnItem): Promise<Written<T>>;
  /** Deletes the item when `condition` holds. */
  delete(id: string, condition?: Condition): Promise<Done>;
  /** Every item whose id begins with `prefix` and which passes the filter. */
  scan<T extends Keyed>(prefix: string, options?: ScanOptions): AsyncIterable<T>;
}

// ---------------------------------------------------------------------------------------------
// Conditions

/** No item with this id exists. */
export const absent: Condition = { expression: 'attribute_not_exists(id)', refusal: 'exists' };

/** An item with this id exists (a late write must not resurrect an item TTL removed). */
export const present: Condition = { expression: 'attribute_exists(id)', refusal: 'missing' };

/** The condition of a write that only the item's current owner may make (a claim, a lock, a slot). */
export const ownedBy = (owner: string, attribute = 'owner'): Condition => ({
  expression: '#owner = :owner',
  names: { '#owner': attribute },
  values: { ':owner': owner },
  refusal: 'not-owner',
});

/** The item's `state` is one of `states`. */
export const inState = (...states: string[]): Condition => {
  const values = Object.fromEntries(states.map((state) => [`:state${state.replace(/[^A-Za-z0-9]/g, '')}`, state]));
  const placeholders = Object.keys(values);
  return {
    expression: placeholders.length === 1 ? `#state = ${placeholders[0]}` : `#state IN (${placeholders.join(', ')})`,
    names: { '#state': 'state' },
    values,
    refusal: 'wrong-state',
  };
};

/** The item is still the version that was read. */
export const versionIs = (version: number): Condition => ({
  expression: '#version = :version',
  names: { '#version': 'version' },
  values: { ':version': version },
  refusal: 'stale',
});

/** Merges placeholders; one placeholder bound to two different values is a bug in the caller. */
function merged<V>(parts: ReadonlyArray<Record<string, V> | undefined>): Record<string, V> | undefined {
  const out: Record<string, V> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part ?? {})) {
      if (key in out && out[key] !== value) throw new Error(`Placeholder ${key} bound twice in one condition`);
      out[key] = value;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function joined(operator: 'AND' | 'OR', conditions: readonly Condition[], refusal: Refusal | undefined): Condition {
  return {
    expression: conditions.map((c) => `(${c.expression})`).join(` ${operator} `),
    names: merged(conditions.map((c) => c.names)),
    values: merged(conditions.map((c) => c.values)),
    refusal,
  };
}

/** Every condition holds. Refused with `refusal`, or with the reason of a single named part. */
export const allOf = (conditions: readonly Condition[], refusal?: Refusal): Condition =>
  joined('AND', conditions, refusal ?? (conditions.length === 1 ? conditions[0]!.refusal : undefined));

/** At least one condition holds. */
export const anyOf = (conditions: readonly Condition[], refusal?: Refusal): Condition => joined('OR', conditions, refusal);

// ---------------------------------------------------------------------------------------------
// Operations

/** Writes the item only when no item with its id exists; refused `exists` when one does. */
export const putIfAbsent = <T extends Keyed>(store: Store, item: T): Promise<Written<T>> => store.put(item, absent);

/**
 * A claim with a sliding window: writes the item when there is none, or when
 * the holder's `attribute` (epoch ms) is at or before `now`. Refused `held`
 * while the previous claim runs.
 */
export const claim = <T extends Keyed>(store: Store, item: T, lapse: { attribute: string; now: number }): Promise<Written<T>> =>
  store.put(item, {
    expression: 'attribute_not_exists(id) OR #lapse <= :lapseNow',
    names: { '#lapse': lapse.attribute },
    values: { ':lapseNow': lapse.now },
    refusal: 'held',
  });

/** Where an item records who holds a lease on it, and until when. */
export interface LeaseFields {
  owner: string;
  until: string;
}

/** The lease attributes of drain records and alert windows. */
export const CLAIM_FIELDS: LeaseFields = { owner: 'claimOwner', until: 'claimUntil' };

/**
 * Takes a lease on an existing item: records `owner` and `until` in `fields`,
 * with the rest of `change`, when `when` holds (the item is free, or its
 * lease lapsed, or it is the version that was read). With `RETURN_ITEM`, the
 * item as the lease left it.
 */
export function lease(store: Store, id: string, fields: LeaseFields, held: { owner: string; until: number }, change: Change, when: Condition): Promise<Done>;
export function lease<T extends Keyed>(
  store: Store,
  id: string,
  fields: LeaseFields,
  held: { owner: string; until: number },
  change: Change,
  when: Condition,
  options: ReturnItem,
): Promise<Written<T>>;
export function lease<T extends Keyed>(
  store: Store,
  id: string,
  fields: LeaseFields,
  held: { owner: string; until: number },
  change: Change,
  when: Condition,
  options?: ReturnItem,
): Promise<Done | Written<T>> {
  const leased: Change = { ...change, set: { ...change.set, [fields.owner]: held.owner, [fields.until]: held.until } };
  return options ? store.update<T>(id, leased, when, options) : store.update(id, leased, when);
}

/**
 * Ends this owner's lease on an item that stays: removes the lease fields,
 * with the rest of `change`. Refused `not-owner` when the lease is someone
 * else's (or gone); `also` adds a condition (a state).
 */
export const release = (store: Store, id: string, fields: LeaseFields, owner: string, change: Change = {}, also?: Condition): Promise<Done> =>
  store.update(
    id,
    { ...change, remove: [...(change.remove ?? []), fields.owner, fields.until] },
    allOf([...(also ? [also] : []), ownedBy(owner, fields.owner)], 'not-owner'),
  );

/** Deletes an item that this owner holds (a lock, a slot, a mark); refused `not-owner` otherwise. */
export const releaseItem = (store: Store, id: string, owner: string): Promise<Done> => store.delete(id, ownedBy(owner));

/** Epoch seconds for the TTL attribute. */
export const ttlAfter = (nowMs: number, seconds: number): number => Math.floor(nowMs / 1000) + seconds;

export { createStore } from './dynamo-store.ts';
