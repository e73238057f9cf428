import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Change, Condition, Done, Keyed, Refused, ReturnItem, Store, Written } from './store.ts';

/**
 * The DynamoDB adapter of the Store port: the one place that builds DynamoDB
 * commands. Each primitive is one call; a failed condition becomes the
 * condition's named refusal, any other error is thrown.
 */

export const conditionalFailed = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; the condition's refusal when it did not hold, any other error is thrown. */
async function attempt<T>(condition: Condition | undefined, write: () => Promise<T>): Promise<{ ok: true; out: T } | Refused> {
  try {
    return { ok: true, out: await write() };
  } catch (error) {
    if (conditionalFailed(error)) return { ok: false, reason: condition?.refusal ?? 'condition-failed' };
    throw error;
  }
}

const conditionInput = (condition: Condition | undefined) => ({
  ConditionExpression: condition?.expression,
  ExpressionAttributeNames: condition?.names,
  ExpressionAttributeValues: condition?.values,
});

/** The UpdateExpression of a change; its placeholders (`#set0`, `:inc1`, ...) never clash with a condition's. */
export function updateExpression(change: Change): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const bind = (kind: string, entries: Array<[string, unknown]>, render: (name: string, value: string) => string) =>
    entries.map(([attribute, value], i) => {
      names[`#${kind}${i}`] = attribute;
      if (value !== undefined) values[`:${kind}${i}`] = value;
      return render(`#${kind}${i}`, `:${kind}${i}`);
    });
  const set = [
    ...bind(
      'set',
      Object.entries(change.set ?? {}).filter(([, v]) => v !== undefined),
      (n, v) => `${n} = ${v}`,
    ),
    ...bind('inc', Object.entries(change.increment ?? {}), (n, v) => `${n} = ${n} + ${v}`),
  ];
  const add = bind('add', Object.entries(change.add ?? {}), (n, v) => `${n} ${v}`);
  const remove = bind(
    'rm',
    (change.remove ?? []).map((attribute) => [attribute, undefined]),
    (n) => n,
  );
  const clauses = [set.length ? `SET ${set.join(', ')}` : '', add.length ? `ADD ${add.join(', ')}` : '', remove.length ? `REMOVE ${remove.join(', ')}` : ''];
  const expression = clauses.filter(Boolean).join(' ');
  if (!expression) throw new Error('An update needs at least one attribute to change');
  return { expression, names, values };
}

export function createStore(doc: DynamoDBDocumentClient, tableName: string): Store {
  return {
    async get<T extends Keyed>(id: string) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }));
      return out.Item as T | undefined;
    },

    async put(item, condition) {
      const done = await attempt(condition, () => doc.send(new PutCommand({ TableName: tableName, Item: item, ...conditionInput(condition) })));
      return done.ok ? { ok: true, item } : done;
    },

    // One implementation of both overloads: the item comes back only when the caller asks for it.
    update: async function update<T extends Keyed>(id: string, change: Change, condition?: Condition, options?: ReturnItem): Promise<Done | Written<T>> {
      const update = updateExpression(change);
      const values = { ...update.values, ...condition?.values };
      const done = await attempt(condition, () =>
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression: update.expression,
            ConditionExpression: condition?.expression,
            ExpressionAttributeNames: { ...update.names, ...condition?.names },
            ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
            // Without it DynamoDB answers NONE: no attributes in the reply.
            ...(options?.returnItem ? { ReturnValues: 'ALL_NEW' as const } : {}),
          }),
        ),
      );
      if (!done.ok) return done;
      return options?.returnItem ? { ok: true, item: done.out.Attributes as T } : { ok: true };
    } as Store['update'],

    async delete(id, condition) {
      const done = await attempt(condition, () => doc.send(new DeleteCommand({ TableName: tableName, Key: { id }, ...conditionInput(condition) })));
      return done.ok ? { ok: true } : done;
    },

    async *scan<T extends Keyed>(prefix: string, options: { filter?: Condition; projection?: readonly string[] } = {}) {
      const { filter, projection } = options;
      const projected = Object.fromEntries((projection ?? []).map((name, i) => [`#p${i}`, name]));
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: tableName,
            // A filter does not lower the read cost (a Scan reads every item), but it and a
            // projection keep the replies and the caller's loop small.
            FilterExpression: `begins_with(#pkey, :prefix)${filter ? ` AND (${filter.expression})` : ''}`,
            ProjectionExpression: projection ? Object.keys(projected).join(', ') : undefined,
            ExpressionAttributeNames: { '#pkey': 'id', ...projected, ...filter?.names },
            ExpressionAttributeValues: { ':prefix': prefix, ...filter?.values },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) yield item as T;
        start = page.LastEvaluatedKey;
      } while (start);
    },
  };
}
