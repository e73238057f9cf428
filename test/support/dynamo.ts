import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createStore, type Store } from '../../functions/shared/store.ts';
import { createTable } from '../../sim/dynamo.ts';

let tables = 0;
/** A fresh table, as infra defines it, and a Store on it, for one test. */
export async function freshStore(endpoint: string): Promise<{ store: Store; tableName: string; doc: DynamoDBDocumentClient }> {
  const tableName = `t${++tables}-${process.pid}`;
  await createTable(endpoint, tableName);
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 5 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return { store: createStore(doc, tableName), tableName, doc };
}
