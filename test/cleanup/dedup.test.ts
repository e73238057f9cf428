/** The per-instance dedup marks on the project table (dynalite): one owner per window, released only by their owner. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDedup, type MarkContext } from '../../functions/cleanup/dedup.ts';
import type { Store } from '../../functions/shared/store.ts';
import { startDynamo } from '../../sim/dynamo.ts';
import { freshStore } from '../support/dynamo.ts';

let dynamo: { endpoint: string; close(): Promise<void> };
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

const T = 1_790_000_000_000;
const ctx = (owner: string, dryRun = false): MarkContext => ({ owner, dryRun, cluster: 'prod', trigger: 'schedule' });
const ids = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'];

describe('cleanup dedup marks', () => {
  it('gives each instance to one owner within the window, and to the next trigger after it', async () => {
    const { store } = await freshStore(dynamo.endpoint);
    let now = T;
    const dedup = createDedup(store, 300, () => now);
    expect(await dedup.claim(ids.slice(0, 2), ctx('a'))).toEqual({ claimed: ids.slice(0, 2), duplicates: [] });
    now += 299_000;
    expect(await dedup.claim(ids, ctx('b'))).toEqual({ claimed: [ids[2]], duplicates: ids.slice(0, 2) });
    // Dry runs keep their own marks.
    expect(await dedup.claim(ids, ctx('c', true))).toEqual({ claimed: ids, duplicates: [] });
    now += 1_000;
    expect(await dedup.claim(ids, ctx('d'))).toEqual({ claimed: ids.slice(0, 2), duplicates: [ids[2]] });
    expect(await store.get(`cleanup#${ids[0]}`)).toMatchObject({
      owner: 'd',
      until: T + 600_000,
      cluster: 'prod',
      expiration: Math.floor((T + 300_000) / 1000) + 3900,
    });
  });

  it('releases only its own marks', async () => {
    const { store } = await freshStore(dynamo.endpoint);
    const dedup = createDedup(store, 300, () => T);
    await dedup.claim(ids, ctx('a'));
    await dedup.release(ids, ctx('intruder'));
    expect((await dedup.claim(ids, ctx('b'))).claimed).toEqual([]);
    await dedup.release(ids.slice(1), ctx('a'));
    expect((await dedup.claim(ids, ctx('b'))).claimed).toEqual(ids.slice(1));
  });

  it('takes all of a batch or nothing: a failed write releases the marks already taken', async () => {
    const { store } = await freshStore(dynamo.endpoint);
    const failing: Store = {
      ...store,
      put: (item, condition) =>
        item.id === `cleanup#${ids[1]}` ? Promise.reject(new Error('ProvisionedThroughputExceededException')) : store.put(item, condition),
    };
    await expect(createDedup(failing, 300, () => T).claim(ids, ctx('a'))).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(await createDedup(store, 300, () => T).claim(ids, ctx('b'))).toEqual({ claimed: ids, duplicates: [] });
  });

  it('with dedupSeconds 0, claims everything and writes nothing', async () => {
    const { store } = await freshStore(dynamo.endpoint);
    const dedup = createDedup(store, 0, () => T);
    expect(await dedup.claim(ids, ctx('a'))).toEqual({ claimed: ids, duplicates: [] });
    expect(await dedup.claim(ids, ctx('b'))).toEqual({ claimed: ids, duplicates: [] });
    expect(await store.get(`cleanup#${ids[0]}`)).toBeUndefined();
  });
});
