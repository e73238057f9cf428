import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

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

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

export interface Store {
  get<T extends Item>(id: string): Promise<T | undefined>;
  /** Writes the item only when no item with its id exists; false when one does. */
  putIfAbsent(item: Item): Promise<boolean>;
  /** Writes the item when `condition` holds (or unconditionally without one); false when it does not. */
  put(item: Item, condition?: Condition): Promise<boolean>;
  /** Sets attributes when `condition` holds; false when it does not. Returns the new item. */
  update<T extends Item>(id: string, set: Record<string, unknown>, condition?: Condition): Promise<T | false>;
  /** Deletes the item when `condition` holds; false when it does not. */
  delete(id: string, condition?: Condition): Promise<boolean>;
}

/** The condition of a write that only the item's current owner may make (a claim, a lock, a slot). */
export const ownedBy = (owner: string): Condition => ({ expression: '#owner = :owner', names: { '#owner': 'owner' }, values: { ':owner': owner } });

export const conditionalFailed = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; false when its condition did not hold, any other error is thrown. */
export async function conditional<T>(write: () => Promise<T>): Promise<T | false> {
  try {
    return await write();
  } catch (error) {
    if (conditionalFailed(error)) return false;
    throw error;
  }
}

export function createStore(doc: DynamoDBDocumentClient, tableName: string): Store {
  return {
    async get<T extends Item>(id: string) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }));
      return out.Item as T | undefined;
    },

    async putIfAbsent(item) {
      return this.put(item, { expression: 'attribute_not_exists(id)' });
    },

    async put(item, condition) {
      const done = await conditional(() =>
        doc.send(
          new PutCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: condition?.expression,
            ExpressionAttributeNames: condition?.names,
            ExpressionAttributeValues: condition?.values,
          }),
        ),
      );
      return done !== false;
    },

    async update<T extends Item>(id: string, set: Record<string, unknown>, condition?: Condition) {
      const names: Record<string, string> = { ...condition?.names };
      const values: Record<string, unknown> = { ...condition?.values };
      const assignments = Object.entries(set).map(([key, value], i) => {
        names[`#u${i}`] = key;
        values[`:u${i}`] = value;
        return `#u${i} = :u${i}`;
      });
      const out = await conditional(() =>
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression: `SET ${assignments.join(', ')}`,
            ConditionExpression: condition?.expression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return out === false ? false : (out.Attributes as T);
    },

    async delete(id, condition) {
      const done = await conditional(() =>
        doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { id },
            ConditionExpression: condition?.expression,
            ExpressionAttributeNames: condition?.names,
            ExpressionAttributeValues: condition?.values as Record<string, unknown> | undefined,
          }),
        ),
      );
      return done !== false;
    },
  };
}

/** Epoch seconds for the TTL attribute. */
export const ttlAfter = (nowMs: number, seconds: number): number => Math.floor(nowMs / 1000) + seconds;
