import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../shared/dynamo-store.ts';
import type { Item } from '../shared/store.ts';

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
  /** ids of the tasks whose STOPPED event was seen */
  stoppedSeen?: Set<string>;
  /** highest Container Instance State Change `detail.version` handled */
  ciVersion?: number;
  /** daemon and ignored tasks still RUNNING at the last check, which a drained instance keeps */
  excludedRunning?: number;
  checks: number;
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
  /** False when a record with this id exists already. */
  create(record: DrainRecord): Promise<boolean>;
  get(id: string): Promise<DrainRecord | undefined>;
  /** Sets attributes while the record is open (or completing, with `evenIfCompleting`); false when it is not. */
  update(id: string, set: Partial<DrainRecord>, opts?: { remove?: Array<keyof DrainRecord>; evenIfCompleting?: boolean }): Promise<DrainRecord | false>;
  /** Adds to numeric counters, whatever the state. */
  increment(id: string, counters: Partial<Record<'apiCalls' | 'heartbeats' | 'checks', number>>): Promise<void>;
  /** Records a STOPPED task; false for a duplicate or a record that is not open. */
  addStopped(id: string, taskId: string): Promise<DrainRecord | false>;
  /** Records a container instance event version; false for an older or duplicated one, or a record that is not open. */
  advanceCiVersion(id: string, version: number): Promise<DrainRecord | false>;
  /** open (or completing, stale) → completing, for one owner; false when someone else holds it or it is closed. */
  claim(id: string, claim: { owner: string; until: number; now: number; result: LifecycleResult; outcome: string }): Promise<DrainRecord | false>;
  /** completing → open again, after a completion that failed and should be retried. */
  release(id: string, owner: string): Promise<void>;
  close(id: string, owner: string, fields: Partial<DrainRecord>): Promise<boolean>;
  /** Every record not closed yet. */
  listOpen(): AsyncIterable<DrainRecord>;
  putIndex(containerInstanceArn: string, actionId: string, expiration: number): Promise<void>;
  getIndex(containerInstanceArn: string): Promise<DrainIndex | undefined>;
  deleteIndex(containerInstanceArn: string, actionId: string): Promise<void>;
}


const OPEN = ':open';

export function createDrainRecords(doc: DynamoDBDocumentClient, tableName: string): DrainRecords {
  const updateReturning = async (input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'ReturnValues'>): Promise<DrainRecord | false> => {
    const out = await conditional(() => doc.send(new UpdateCommand({ TableName: tableName, ReturnValues: 'ALL_NEW', ...input })));
    return out === false ? false : (out.Attributes as DrainRecord);
  };

  return {
    async create(record) {
      const done = await conditional(() => doc.send(new PutCommand({ TableName: tableName, Item: record, ConditionExpression: 'attribute_not_exists(id)' })));
      return done !== false;
    },

    async get(id) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }));
      return out.Item as DrainRecord | undefined;
    },

    async update(id, set, opts = {}) {
      const names: Record<string, string> = { '#state': 'state' };
      const values: Record<string, unknown> = { [OPEN]: 'open' };
      const assignments = Object.entries(set)
        .filter(([, value]) => value !== undefined)
        .map(([key, value], i) => {
          names[`#s${i}`] = key;
          values[`:s${i}`] = value;
          return `#s${i} = :s${i}`;
        });
      const removals = (opts.remove ?? []).map((key, i) => {
        names[`#r${i}`] = key as string;
        return `#r${i}`;
      });
      let condition = '#state = :open';
      if (opts.evenIfCompleting) {
        values[':completing'] = 'completing';
        condition = '#state IN (:open, :completing)';
      }
      const expression = [assignments.length ? `SET ${assignments.join(', ')}` : '', removals.length ? `REMOVE ${removals.join(', ')}` : ''].filter(Boolean).join(' ');
      if (!expression) return (await this.get(id)) ?? false;
      return updateReturning({ Key: { id }, UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values });
    },

    async increment(id, counters) {
      const entries = Object.entries(counters).filter(([, n]) => n);
      if (!entries.length) return;
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const parts = entries.map(([key, n], i) => {
        names[`#c${i}`] = key;
        values[`:c${i}`] = n;
        return `#c${i} :c${i}`;
      });
      // attribute_exists: a late increment must not resurrect a record that TTL already removed.
      await conditional(() =>
        doc.send(new UpdateCommand({ TableName: tableName, Key: { id }, UpdateExpression: `ADD ${parts.join(', ')}`, ConditionExpression: 'attribute_exists(id)', ExpressionAttributeNames: names, ExpressionAttributeValues: values })),
      );
    },

    addStopped(id, taskId) {
      return updateReturning({
        Key: { id },
        UpdateExpression: 'ADD stoppedSeen :task',
        ConditionExpression: '#state = :open AND NOT contains(stoppedSeen, :id)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':task': new Set([taskId]), ':id': taskId, [OPEN]: 'open' },
      });
    },

    advanceCiVersion(id, version) {
      return updateReturning({
        Key: { id },
        UpdateExpression: 'SET ciVersion = :v',
        ConditionExpression: '#state = :open AND (attribute_not_exists(ciVersion) OR ciVersion < :v)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':v': version, [OPEN]: 'open' },
      });
    },

    claim(id, claim) {
      return updateReturning({
        Key: { id },
        UpdateExpression: 'SET #state = :completing, claimOwner = :owner, claimUntil = :until, pendingResult = :result, pendingOutcome = :outcome',
        ConditionExpression: '#state = :open OR (#state = :completing AND claimUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':completing': 'completing', ':owner': claim.owner, ':until': claim.until, ':now': claim.now, ':result': claim.result, ':outcome': claim.outcome, [OPEN]: 'open' },
      });
    },

    async release(id, owner) {
      await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression: 'SET #state = :open REMOVE claimOwner, claimUntil, pendingResult, pendingOutcome',
            ConditionExpression: '#state = :completing AND claimOwner = :owner',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':completing': 'completing', ':owner': owner, [OPEN]: 'open' },
          }),
        ),
      );
    },

    async close(id, owner, fields) {
      const names: Record<string, string> = { '#state': 'state' };
      const values: Record<string, unknown> = { ':closed': 'closed', ':completing': 'completing', ':owner': owner };
      const assignments = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value], i) => {
          names[`#f${i}`] = key;
          values[`:f${i}`] = value;
          return `#f${i} = :f${i}`;
        });
      const done = await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression: `SET #state = :closed${assignments.length ? `, ${assignments.join(', ')}` : ''} REMOVE claimOwner, claimUntil, pendingResult, pendingOutcome, outstanding`,
            ConditionExpression: '#state = :completing AND claimOwner = :owner',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return done !== false;
    },

    async *listOpen() {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: 'begins_with(id, :prefix) AND #state <> :closed',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':prefix': RECORD_PREFIX, ':closed': 'closed' },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) yield item as DrainRecord;
        start = page.LastEvaluatedKey;
      } while (start);
    },

    async putIndex(containerInstanceArn, actionId, expiration) {
      await doc.send(new PutCommand({ TableName: tableName, Item: { id: indexIdOf(containerInstanceArn), actionId, expiration } }));
    },

    async getIndex(containerInstanceArn) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { id: indexIdOf(containerInstanceArn) }, ConsistentRead: true }));
      return out.Item as DrainIndex | undefined;
    },

    async deleteIndex(containerInstanceArn, actionId) {
      // Only our own pointer: a newer action on the same container instance may have replaced it.
      await conditional(() =>
        doc.send(new DeleteCommand({ TableName: tableName, Key: { id: indexIdOf(containerInstanceArn) }, ConditionExpression: 'actionId = :a', ExpressionAttributeValues: { ':a': actionId } })),
      );
    },
  };
}
