/**
 * What the last digest reported, kept in the project table so that the same
 * findings are not sent again: a map from `<cluster>/<service>` to the ids of
 * that service's findings at or above the threshold. Two kinds of record:
 * - `audit-digest#scheduled`: the scheduled run's, for every configured cluster;
 * - `audit-digest#service#<cluster>/<service>`: the one service's, after a
 *   deployment of it.
 *
 * Every write is conditional on the `version` read, so two runs (a duplicate
 * delivery, a schedule during a deployment) never both take the same digest.
 * A digest is first claimed (`pending`), then published, then confirmed
 * (`sent`); a publish that fails releases the claim, and a claim whose sender
 * died expires after CLAIM_LEASE_MS, so a digest is lost neither way.
 */
import { absent, ttlAfter, versionIs, type Item, type Store, type Written } from '../shared/store.ts';

export const DIGEST_PREFIX = 'audit-digest#';
export const SCHEDULED_DIGEST_ID = `${DIGEST_PREFIX}scheduled`;
export const serviceDigestId = (cluster: string, service: string): string => `${DIGEST_PREFIX}service#${cluster}/${service}`;

/**
 * Records outlive a month without a run: a service deleted long ago leaves no
 * record behind, and a finding nobody fixed for a month is reported again.
 */
export const DIGEST_RETENTION_S = 30 * 86_400;
/** Longer than the function's timeout (300 s, infra/functions/audit.ts): a live sender is never overtaken. */
export const CLAIM_LEASE_MS = 6 * 60_000;
/**
 * DynamoDB items are at most 400 KB (DynamoDB developer guide, "Service,
 * account, and table quotas"); about 20,000 findings at or above the
 * threshold. Beyond it the record keeps its combined hash only: any change
 * then counts as new for every service, and deployments compare with their
 * own records.
 */
export const SERVICE_MAP_MAX_BYTES = 300_000;

/** What a digest covered: the ids of each service's findings, and one hash of them all. */
export interface DigestState {
  hash: string;
  services?: Record<string, string[]>;
  /** epoch ms */
  at: number;
  messageId?: string;
}

export interface DigestRecord extends Item {
  version: number;
  sent?: DigestState;
  pending?: DigestState & { owner: string; until: number };
  expiration: number;
}

/** The record as read, with an expired `sent` (DynamoDB deletes expired items only eventually) treated as absent. */
export async function readDigest(store: Store, id: string, now: number): Promise<DigestRecord | undefined> {
  const record = await store.get<DigestRecord>(id);
  if (!record) return undefined;
  return record.expiration * 1000 <= now ? { ...record, sent: undefined, pending: undefined } : record;
}

export const liveClaim = (record: DigestRecord | undefined, now: number): DigestRecord['pending'] | undefined =>
  record?.pending && record.pending.until > now ? record.pending : undefined;

/** Drops the per-service map when it would make the item too large. */
export function fitting(state: DigestState): DigestState {
  if (!state.services || Buffer.byteLength(JSON.stringify(state.services)) <= SERVICE_MAP_MAX_BYTES) return state;
  const { services: _dropped, ...rest } = state;
  return rest;
}

/** Writes the next version of the record, conditional on the version `read` (or on there being none); refused `stale` or `exists` when another run wrote it since. */
function write(
  store: Store,
  id: string,
  read: DigestRecord | undefined,
  next: Omit<DigestRecord, 'id' | 'version' | 'expiration'>,
  now: number,
): Promise<Written<DigestRecord>> {
  const item: DigestRecord = { id, version: (read?.version ?? 0) + 1, expiration: ttlAfter(now, DIGEST_RETENTION_S), ...next };
  return store.put(item, read ? versionIs(read.version) : absent);
}

/** Takes the digest of `state`: the new version of the record, or refused when another run wrote the record since `read`. */
export function claimDigest(
  store: Store,
  id: string,
  read: DigestRecord | undefined,
  state: DigestState,
  owner: string,
  now: number,
): Promise<Written<DigestRecord>> {
  const pending = { ...fitting(state), owner, until: now + CLAIM_LEASE_MS };
  return write(store, id, read, { sent: read?.sent, pending }, now);
}

/** The claimed digest was published: it becomes what was sent. Refused when the claim was overtaken meanwhile. */
export function confirmDigest(store: Store, claimed: DigestRecord, messageId: string | undefined, now: number): Promise<Written<DigestRecord>> {
  const { owner: _owner, until: _until, ...state } = claimed.pending!;
  return write(store, claimed.id, claimed, { sent: { ...state, at: now, messageId } }, now);
}

/** The publish failed: the claim goes, so that the next attempt sends the digest. */
export function releaseDigest(store: Store, claimed: DigestRecord, now: number): Promise<Written<DigestRecord>> {
  return write(store, claimed.id, claimed, { sent: claimed.sent }, now);
}

/** Records a state that needs no message (findings resolved, or below the threshold) as the new baseline. */
export function recordQuietly(store: Store, id: string, read: DigestRecord | undefined, state: DigestState, now: number): Promise<Written<DigestRecord>> {
  return write(store, id, read, { sent: fitting(state), pending: liveClaim(read, now) }, now);
}
