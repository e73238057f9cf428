import { claim as claimItem, releaseItem, ttlAfter, type Store } from '../shared/store.ts';
import { mapLimit } from './limit.ts';
import { dedupId } from './plan.ts';

/**
 * One command per instance per dedupSeconds, whatever triggers arrive
 * (schedule, alarms, requests, their duplicates): an instance is sent a
 * command only by the invocation whose conditional write takes its mark.
 * The window slides: a mark holds until `until`, then the next trigger takes
 * it over. Marks whose command was not sent are released, so that the retry
 * of the same event can send it.
 */

export interface MarkContext {
  owner: string;
  dryRun: boolean;
  cluster: string;
  trigger: string;
}

export interface DedupMark {
  id: string;
  until: number;
  owner: string;
  cluster: string;
  trigger: string;
  expiration: number;
}

// Conditional writes are independent per item; a few in flight keep a 5,000-instance run short without a burst.
const WRITE_CONCURRENCY = 16;

export interface Dedup {
  claim(instanceIds: readonly string[], context: MarkContext): Promise<{ claimed: string[]; duplicates: string[] }>;
  release(instanceIds: readonly string[], context: MarkContext): Promise<void>;
}

export function createDedup(store: Store, dedupSeconds: number, now: () => number): Dedup {
  if (dedupSeconds === 0) {
    return { claim: async (ids) => ({ claimed: [...ids], duplicates: [] }), release: async () => undefined };
  }
  const release: Dedup['release'] = async (instanceIds, context) => {
    await mapLimit(instanceIds, WRITE_CONCURRENCY, (instanceId) => releaseItem(store, dedupId(instanceId, context.dryRun), context.owner));
  };
  const claim: Dedup['claim'] = async (instanceIds, context) => {
    const at = now();
    const failures: unknown[] = [];
    const won = await mapLimit(instanceIds, WRITE_CONCURRENCY, (instanceId) =>
      claimItem(
        store,
        {
          id: dedupId(instanceId, context.dryRun),
          until: at + dedupSeconds * 1000,
          owner: context.owner,
          cluster: context.cluster,
          trigger: context.trigger,
          expiration: ttlAfter(at, dedupSeconds + 3600),
        } satisfies DedupMark,
        { attribute: 'until', now: at },
      ).then(
        (mark) => mark.ok,
        (error: unknown) => {
          failures.push(error);
          return false;
        },
      ),
    );
    const claimed = instanceIds.filter((_, i) => won[i]);
    if (failures.length) {
      // All or nothing: a batch half claimed would leave marks that no command follows.
      await release(claimed, context);
      throw failures[0];
    }
    return { claimed, duplicates: instanceIds.filter((_, i) => !won[i]) };
  };
  return { claim, release };
}
