/** The storage core on the project table (dynalite): each write is one call and names why it was refused. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { updateExpression } from '../../functions/shared/dynamo-store.ts';
import {
  allOf,
  anyOf,
  CLAIM_FIELDS,
  claim,
  inState,
  lease,
  ownedBy,
  present,
  putIfAbsent,
  release,
  releaseItem,
  RETURN_ITEM,
  versionIs,
  type Item,
  type Store,
} from '../../functions/shared/store.ts';
import { startDynamo } from '../../sim/dynamo.ts';
import { freshStore } from '../support/dynamo.ts';

let dynamo: { endpoint: string; close(): Promise<void> };
let store: Store;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});
let doc: Awaited<ReturnType<typeof freshStore>>['doc'];
const fresh = async () => {
  ({ store, doc } = await freshStore(dynamo.endpoint));
};

describe('conditions and changes (pure)', () => {
  it('names every attribute through a placeholder that cannot clash with a condition', () => {
    expect(
      updateExpression({ set: { state: 'open', gone: undefined }, increment: { count: 1 }, add: { seen: new Set(['a']) }, remove: ['claimOwner'] }),
    ).toEqual({
      expression: 'SET #set0 = :set0, #inc0 = #inc0 + :inc0 ADD #add0 :add0 REMOVE #rm0',
      names: { '#set0': 'state', '#inc0': 'count', '#add0': 'seen', '#rm0': 'claimOwner' },
      values: { ':set0': 'open', ':inc0': 1, ':add0': new Set(['a']) },
    });
    expect(() => updateExpression({ set: { gone: undefined } })).toThrow('at least one attribute');
  });

  it('joins conditions, keeps a lone part its reason, and refuses one placeholder bound to two values', () => {
    expect(allOf([ownedBy('a')]).refusal).toBe('not-owner');
    expect(allOf([ownedBy('a'), versionIs(2)])).toEqual({
      expression: '(#owner = :owner) AND (#version = :version)',
      names: { '#owner': 'owner', '#version': 'version' },
      values: { ':owner': 'a', ':version': 2 },
      refusal: undefined,
    });
    expect(inState('open', 'completing').expression).toBe('#state IN (:stateopen, :statecompleting)');
    expect(() => anyOf([ownedBy('a'), ownedBy('b')])).toThrow(':owner');
  });
});

describe('the Store on DynamoDB', () => {
  it('put-if-absent: the first write wins, the second is refused `exists`', async () => {
    await fresh();
    expect(await putIfAbsent(store, { id: 'k#1', owner: 'a' })).toEqual({ ok: true, item: { id: 'k#1', owner: 'a' } });
    expect(await putIfAbsent(store, { id: 'k#1', owner: 'b' })).toEqual({ ok: false, reason: 'exists' });
    expect(await store.get('k#1')).toEqual({ id: 'k#1', owner: 'a' });
  });

  it('claim: refused `held` while the previous claim runs, taken at its end', async () => {
    await fresh();
    expect((await claim(store, { id: 'm#1', owner: 'a', until: 100 }, { attribute: 'until', now: 0 })).ok).toBe(true);
    expect(await claim(store, { id: 'm#1', owner: 'b', until: 200 }, { attribute: 'until', now: 99 })).toEqual({ ok: false, reason: 'held' });
    expect((await claim(store, { id: 'm#1', owner: 'b', until: 200 }, { attribute: 'until', now: 100 })).ok).toBe(true);
    expect(await releaseItem(store, 'm#1', 'a')).toEqual({ ok: false, reason: 'not-owner' });
    expect(await releaseItem(store, 'm#1', 'b')).toEqual({ ok: true });
    expect(await store.get('m#1')).toBeUndefined();
  });

  it('lease and release on an item that stays: increments, ADD, and the lease fields removed', async () => {
    await fresh();
    await store.put({ id: 'w#1', version: 1, count: 1, seen: new Set(['e1']) });
    const taken = await lease<Item>(
      store,
      'w#1',
      CLAIM_FIELDS,
      { owner: 'a', until: 50 },
      { increment: { version: 1 }, add: { seen: new Set(['e2']) } },
      versionIs(1),
      RETURN_ITEM,
    );
    expect(taken).toMatchObject({ ok: true, item: { claimOwner: 'a', claimUntil: 50, version: 2, seen: new Set(['e1', 'e2']) } });
    expect(await lease(store, 'w#1', CLAIM_FIELDS, { owner: 'b', until: 60 }, {}, versionIs(1))).toEqual({ ok: false, reason: 'stale' });
    expect(await release(store, 'w#1', CLAIM_FIELDS, 'b')).toEqual({ ok: false, reason: 'not-owner' });
    // A release does not ask for the item: the result says only that it happened, the read shows what it left.
    expect(await release(store, 'w#1', CLAIM_FIELDS, 'a', { increment: { count: 1 } })).toEqual({ ok: true });
    expect(await store.get('w#1')).toEqual({ id: 'w#1', version: 2, count: 2, seen: new Set(['e1', 'e2']) });
  });

  it('an update brings the item back only when asked (ALL_NEW), and otherwise answers no item at all', async () => {
    await fresh();
    await store.put({ id: 'r#1', count: 1, seen: new Set(['e1']) });
    const send = vi.spyOn(doc, 'send');
    const plain = await store.update('r#1', { increment: { count: 1 } });
    expect(plain).toEqual({ ok: true });
    expect(send.mock.calls[0]![0].input).not.toHaveProperty('ReturnValues');
    const returned = await store.update<Item>('r#1', { add: { seen: new Set(['e2']) } }, present, RETURN_ITEM);
    expect(returned).toEqual({ ok: true, item: { id: 'r#1', count: 2, seen: new Set(['e1', 'e2']) } });
    expect(send.mock.calls[1]![0].input).toMatchObject({ ReturnValues: 'ALL_NEW' });
    expect(await lease(store, 'r#1', CLAIM_FIELDS, { owner: 'a', until: 9 }, {}, present)).toEqual({ ok: true });
    expect(send.mock.calls[2]![0].input).not.toHaveProperty('ReturnValues');
    expect(await release(store, 'r#1', CLAIM_FIELDS, 'a')).toEqual({ ok: true });
    expect(send.mock.calls[3]![0].input).not.toHaveProperty('ReturnValues');
    expect(await store.update<Item>('r#1', { set: { x: 1 } }, ownedBy('b'), RETURN_ITEM)).toEqual({ ok: false, reason: 'not-owner' });
    send.mockRestore();
  });

  it('a condition with no name of its own is refused `condition-failed`; `present` keeps a missing item missing', async () => {
    await fresh();
    await store.put({ id: 'd#1', state: 'open' });
    expect(await store.update('d#1', { set: { state: 'closed' } }, allOf([inState('open'), ownedBy('x')]))).toEqual({ ok: false, reason: 'condition-failed' });
    expect(await store.update('d#2', { add: { n: 1 } }, present)).toEqual({ ok: false, reason: 'missing' });
    expect(await store.get('d#2')).toBeUndefined();
  });

  it('scans one prefix with a filter and a projection, over several pages', async () => {
    await fresh();
    for (let i = 0; i < 30; i++) await store.put({ id: `s#${i}`, state: i % 3 ? 'open' : 'closed', pad: 'x'.repeat(40_000) });
    await store.put({ id: 'other#1', state: 'open' });
    const seen: Item[] = [];
    for await (const item of store.scan<Item>('s#', {
      filter: { expression: '#state <> :closed', names: { '#state': 'state' }, values: { ':closed': 'closed' } },
      projection: ['id', 'state'],
    }))
      seen.push(item);
    expect(seen).toHaveLength(20);
    expect(seen.every((item) => item.id.startsWith('s#') && item.state === 'open' && !('pad' in item))).toBe(true);
  });
});
