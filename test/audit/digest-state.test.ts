/**
 * The digest record's conditional writes, on dynalite: one claim wins, a
 * failed publish gives the digest back, a dead sender's claim runs out.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CLAIM_LEASE_MS,
  claimDigest,
  confirmDigest,
  DIGEST_RETENTION_S,
  fitting,
  liveClaim,
  readDigest,
  recordQuietly,
  releaseDigest,
  SCHEDULED_DIGEST_ID,
  SERVICE_MAP_MAX_BYTES,
  type DigestState,
} from '../../functions/audit/digest-state.ts';
import type { Store, Written } from '../../functions/shared/store.ts';
import { startDynamo } from '../../sim/dynamo.ts';
import { freshStore } from '../support/dynamo.ts';

let dynamo: { endpoint: string; close(): Promise<void> };
let store: Store;
const T = Date.parse('2026-11-23T02:00:00Z');
const ID = SCHEDULED_DIGEST_ID;
const state = (hash: string): DigestState => ({ hash, services: { 'prod/web': [hash] }, at: T });
/** The record a write that must have happened wrote. */
const written = <T>(result: Written<T>): T => {
  if (!result.ok) throw new Error(`write refused: ${result.reason}`);
  return result.item;
};

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});
beforeEach(async () => {
  ({ store } = await freshStore(dynamo.endpoint));
});

describe('claim, publish, confirm', () => {
  it('the first claim wins; a run that read the record before it loses', async () => {
    const read = await readDigest(store, ID, T);
    expect(read).toBeUndefined();
    const claimed = await claimDigest(store, ID, read, state('a'), 'run-1', T);
    expect(claimed).toMatchObject({ ok: true, item: { version: 1, pending: { hash: 'a', owner: 'run-1', until: T + CLAIM_LEASE_MS } } });
    expect(await claimDigest(store, ID, read, state('a'), 'run-2', T)).toEqual({ ok: false, reason: 'exists' });

    expect(await confirmDigest(store, written(claimed), 'msg-1', T + 1000)).toMatchObject({ ok: true });
    const after = await readDigest(store, ID, T + 2000);
    expect(after).toMatchObject({
      version: 2,
      sent: { hash: 'a', services: { 'prod/web': ['a'] }, at: T + 1000, messageId: 'msg-1' },
      expiration: Math.floor((T + 1000) / 1000) + DIGEST_RETENTION_S,
    });
    expect(after!.pending).toBeUndefined();
  });

  it('a failed publish releases the claim and keeps what was sent before', async () => {
    const first = await claimDigest(store, ID, undefined, state('a'), 'run-1', T);
    await confirmDigest(store, written(first), 'msg-1', T);
    const read = await readDigest(store, ID, T + 1000);
    const second = await claimDigest(store, ID, read, state('b'), 'run-2', T + 1000);
    expect(liveClaim(await readDigest(store, ID, T + 2000), T + 2000)).toMatchObject({ hash: 'b', owner: 'run-2' });
    expect(await releaseDigest(store, written(second), T + 3000)).toMatchObject({ ok: true });
    const after = await readDigest(store, ID, T + 4000);
    expect(after!.sent).toMatchObject({ hash: 'a', messageId: 'msg-1' });
    expect(after!.pending).toBeUndefined();
  });

  it('a claim outlives a live sender, and runs out for a dead one', async () => {
    await claimDigest(store, ID, undefined, state('a'), 'run-1', T);
    expect(liveClaim(await readDigest(store, ID, T + CLAIM_LEASE_MS - 1), T + CLAIM_LEASE_MS - 1)).toBeDefined();
    expect(liveClaim(await readDigest(store, ID, T + CLAIM_LEASE_MS), T + CLAIM_LEASE_MS)).toBeUndefined();
  });

  it('a confirm after another run wrote the record is refused', async () => {
    const claimed = await claimDigest(store, ID, undefined, state('a'), 'run-1', T);
    const read = await readDigest(store, ID, T + 1);
    expect(await recordQuietly(store, ID, read, state('c'), T + 1)).toMatchObject({ ok: true });
    expect(await confirmDigest(store, written(claimed), 'msg-1', T + 2)).toEqual({ ok: false, reason: 'stale' });
    // The quiet write kept the other run's live claim.
    expect((await readDigest(store, ID, T + 3))!.pending).toMatchObject({ owner: 'run-1' });
  });
});

describe('what is read back', () => {
  it('an expired record is no baseline, but its version still guards the next write', async () => {
    const claimed = await claimDigest(store, ID, undefined, state('a'), 'run-1', T);
    await confirmDigest(store, written(claimed), 'msg-1', T);
    const later = T + (DIGEST_RETENTION_S + 1) * 1000;
    const read = await readDigest(store, ID, later);
    expect(read).toMatchObject({ version: 2 });
    expect(read!.sent).toBeUndefined();
    expect(await claimDigest(store, ID, undefined, state('a'), 'run-2', later)).toEqual({ ok: false, reason: 'exists' });
    expect(await claimDigest(store, ID, read, state('a'), 'run-2', later)).toMatchObject({ ok: true, item: { version: 3 } });
  });

  it('a map of services too large for one item is dropped, the combined hash kept', () => {
    const services = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`prod/service-${i}`, ['0123456789ab', 'ba9876543210']]));
    expect(Buffer.byteLength(JSON.stringify(services))).toBeGreaterThan(SERVICE_MAP_MAX_BYTES);
    expect(fitting({ hash: 'h', services, at: T })).toEqual({ hash: 'h', at: T });
    expect(fitting(state('a'))).toEqual(state('a'));
  });
});
