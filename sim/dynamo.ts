import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableResources, TABLE_LOGICAL_ID } from '../infra/resources.ts';
import { closeServer, listenLocal } from './server.ts';

/**
 * DynamoDB for the simulator: dynalite, in memory, in this process.
 * Known gaps: no TTL expiry (items with a past `expiration` stay readable, so
 * tests must not rely on DynamoDB deleting them) and no transactions.
 */
export async function startDynamo(): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Tables are ACTIVE at once instead of after dynalite's default 500 ms in CREATING.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  return { endpoint: await listenLocal(server), close: () => closeServer(server) };
}

/**
 * Creates the project's single table as infra/resources.ts defines it (key
 * `id`, PAY_PER_REQUEST) and waits until it is ACTIVE. TTL is not set: dynalite
 * has no UpdateTimeToLive and never expires items.
 */
export async function createTable(endpoint: string, name: string): Promise<void> {
  const props = tableResources()[TABLE_LOGICAL_ID]!.Properties as Record<string, any>;
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' } });
  try {
    await client.send(
      new CreateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: props.AttributeDefinitions, KeySchema: props.KeySchema }),
    );
    for (let i = 0; i < 50; i++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await sleep(10);
    }
    throw new Error(`sim: table ${name} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}
