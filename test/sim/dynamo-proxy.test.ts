/** sim/dynamo-proxy.ts: DynamoDB through the dispatcher, with the call log and faults, in front of dynalite. */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDynamoProxy } from '../../sim/dynamo-proxy.ts';
import { createTable, startSim, type Sim } from '../../sim/index.ts';
import { credentials } from './clients.ts';

let sim: Sim;
let ddb: DynamoDBClient;

beforeAll(async () => {
  sim = await startSim();
  installDynamoProxy(sim);
  ddb = new DynamoDBClient({ endpoint: sim.env().AWS_ENDPOINT_URL_DYNAMODB, region: 'eu-west-1', credentials, retryMode: 'standard', maxAttempts: 3 });
  await createTable(sim.env().AWS_ENDPOINT_URL_DYNAMODB!, 'proxied');
});
afterAll(async () => {
  ddb?.destroy();
  await sim?.close();
});

describe('DynamoDB behind the simulator', () => {
  it('sim.env() sends DynamoDB clients to the simulator, which forwards to dynalite', () => {
    expect(sim.env().AWS_ENDPOINT_URL_DYNAMODB).toBe(sim.endpoint);
    expect(sim.dynamo.endpoint).not.toBe(sim.endpoint);
  });

  it('answers like DynamoDB, modelled errors included, and logs every call', async () => {
    const put = () => ddb.send(new PutItemCommand({ TableName: 'proxied', Item: { id: { S: 'k' } }, ConditionExpression: 'attribute_not_exists(id)' }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(ddb.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'k' } } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'proxied', Key: { id: { S: 'k' } }, ConsistentRead: true }));
    expect(Item).toEqual({ id: { S: 'k' } });
    expect(sim.calls.filter((c) => c.service === 'dynamodb' && c.op === 'PutItem').map((c) => c.error)).toEqual([undefined, 'ConditionalCheckFailedException']);
  });

  it('injects throttling that the SDK retries', async () => {
    sim.faults.failNext('dynamodb', 'GetItem', 'ProvisionedThroughputExceededException', 2);
    const before = sim.countCalls('dynamodb', 'GetItem');
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'proxied', Key: { id: { S: 'k' } } }));
    expect(Item).toEqual({ id: { S: 'k' } });
    expect(sim.countCalls('dynamodb', 'GetItem') - before).toBe(3);
  });

  it('fails every call inside an outage window, throttled or 5xx, and none outside it', async () => {
    const start = sim.clock.now();
    sim.faults.outage({ service: 'dynamodb', from: start + 60_000, to: start + 120_000 });
    sim.faults.outage({ service: 'dynamodb', from: start + 180_000, to: start + 240_000, kind: 'server' });
    const get = () =>
      ddb.send(new GetItemCommand({ TableName: 'proxied', Key: { id: { S: 'k' } } })).then(
        () => 'ok',
        (e: Error) => e.name,
      );
    const results: string[] = [];
    for (const at of [0, 60_000, 119_000, 120_000, 200_000, 240_000]) {
      await sim.clock.advance(start + at - sim.clock.now());
      results.push(await get());
    }
    expect(results).toEqual(['ok', 'ThrottlingException', 'ThrottlingException', 'ok', 'InternalServerError', 'ok']);
    // Every retry inside a window failed too: the window is not one unlucky attempt.
    const inWindows = sim.calls.filter((c) => c.service === 'dynamodb' && c.at >= start && sim.faults.outages.some((w) => w.from <= c.at && c.at < w.to));
    expect(inWindows.length).toBeGreaterThanOrEqual(9);
    expect(inWindows.every((c) => c.error)).toBe(true);
    sim.faults.clear();
  });
});
