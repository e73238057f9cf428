import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import type { Sim } from './index.ts';

/**
 * Puts DynamoDB behind the simulator's dispatcher: every call is forwarded to
 * the in-process dynalite, but first goes through the call log
 * (`sim.calls`, `countCalls('dynamodb', op)`) and fault injection
 * (`faults.failNext('dynamodb', 'UpdateItem', 'ProvisionedThroughputExceededException')`),
 * like the other simulated services. Once installed, `sim.env()` points
 * AWS_ENDPOINT_URL_DYNAMODB at the simulator instead of at dynalite.
 */

const TARGET = 'DynamoDB_20120810';

// dynalite checks that a request looks signed, never the signature itself.
const fakeSignature = (date: string) =>
  `AWS4-HMAC-SHA256 Credential=sim/${date.slice(0, 8)}/eu-west-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`;

export function dynamoProxyService(dynaliteEndpoint: string): ServiceDef {
  const forward = async (op: string, input: unknown): Promise<unknown> => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const res = await fetch(dynaliteEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${TARGET}.${op}`, 'x-amz-date': date, authorization: fakeSignature(date) },
      body: JSON.stringify(input ?? {}),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.ok) return body;
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the bare name the SDK maps to its error class.
    const type = String(body.__type ?? 'InternalServerError');
    throw new SimError(type.slice(type.lastIndexOf('#') + 1), String(body.message ?? body.Message ?? ''), res.status);
  };
  // Every operation dynalite knows is forwarded; the dispatcher only needs a handler per name.
  const operations = new Proxy({} as ServiceDef['operations'], {
    get: (_target, op) => (typeof op === 'string' ? (input: unknown) => forward(op, input) : undefined),
  });
  return { name: 'dynamodb', sdkServiceId: 'DynamoDB', protocol: 'awsJson1_0', target: TARGET, serverErrorCode: 'InternalServerError', operations };
}

export function installDynamoProxy(sim: Sim): void {
  sim.register(dynamoProxyService(sim.dynamo.endpoint));
}
