import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createStore, type Store } from '../../functions/shared/store.ts';
import { tableResources, TABLE_LOGICAL_ID } from '../../infra/resources.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Creates the project's table, as infra defines it, in any DynamoDB endpoint (dynalite here). */
export async function createProjectTable(endpoint: string, tableName: string): Promise<void> {
  const props = tableResources(tableName)[TABLE_LOGICAL_ID]!.Properties as Record<string, unknown>;
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: props.AttributeDefinitions as never,
      KeySchema: props.KeySchema as never,
    }),
  );
  client.destroy();
}

let tables = 0;
/** A fresh table and a Store on it, for one test. */
export async function freshStore(endpoint: string): Promise<{ store: Store; tableName: string; doc: DynamoDBDocumentClient }> {
  const tableName = `t${++tables}-${process.pid}`;
  await createProjectTable(endpoint, tableName);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { store: createStore(doc, tableName), tableName, doc };
}
