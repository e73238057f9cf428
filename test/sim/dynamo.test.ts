import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable, startDynamo } from '../../sim/index.ts';
import { credentials } from './clients.ts';

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let ddb: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynamo();
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-1', credentials });
});
afterAll(async () => {
  ddb?.destroy();
  await dynamo?.close();
});

describe('dynalite', () => {
  it('creates the project table and honours a conditional put', async () => {
    await createTable(dynamo.endpoint, 'caretaker');
    const put = (owner: string) =>
      ddb.send(
        new PutItemCommand({
          TableName: 'caretaker',
          Item: { id: { S: 'lock#nightly#2026-07-01' }, owner: { S: owner } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    await put('first');
    await expect(put('second')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'caretaker', Key: { id: { S: 'lock#nightly#2026-07-01' } }, ConsistentRead: true }));
    expect(Item?.owner?.S).toBe('first');
  });
});
