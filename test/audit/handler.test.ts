/**
 * The audit function's real handler (middy, Powertools, SDK clients built
 * from the environment) against the simulator: ECS, ELBv2, SNS and DynamoDB
 * reached through AWS_ENDPOINT_URL_*, as in Lambda. The cluster is the one of
 * sim-world.ts; the tests change it between runs as deployments would.
 *
 * The tests share one cluster and one table and run in order, like the days
 * of an operator: first digest, a quiet day, deployments, fixes. The handler
 * runs on the real clock: nothing it decides waits for time to pass, and a
 * faked Date would look like clock skew to the SDK, which then retries
 * errors that AWS would not.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { fakeContext } from '../../sim/lambda.ts';
import { SCHEDULED_DIGEST_ID, serviceDigestId } from '../../functions/audit/digest-state.ts';
import type { AuditReport } from '../../functions/audit/run.ts';
import type { AuditSettings } from '../../functions/audit/settings.ts';
import { documentClient } from '../../functions/shared/lambda.ts';
import { installDynamoProxy } from '../../sim/dynamo-proxy.ts';
import { createTable, startSim, type Sim } from '../../sim/index.ts';
import { installSns, type SnsSim } from '../../sim/sns.ts';
import { buildAuditWorld, paymentsApiRegister, type AuditWorld } from './sim-world.ts';

const T0 = new Date('2026-11-23T02:00:00Z');
const DAY = 86_400_000;

let sim: Sim;
let world: AuditWorld;
let sns: SnsSim;
let topic: string;
let tableName: string;
const savedEnv = { ...process.env };
type Handler = (event: unknown, context: unknown) => Promise<AuditReport>;
let handler: Handler;
/** Every EMF document the handler wrote; kept off the test output. */
const emfLines: string[] = [];
let stdout: MockInstance;

beforeAll(async () => {
  const write = process.stdout.write.bind(process.stdout);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: any, ...rest: any[]) => {
    const text = String(chunk);
    if (!text.includes('"_aws"')) return write(chunk, ...rest);
    emfLines.push(...text.trim().split('\n'));
    return true;
  }) as typeof process.stdout.write);
  sim = await startSim({ start: T0, seed: 17 });
  world = buildAuditWorld(sim);
  sns = installSns(sim);
  installDynamoProxy(sim);
  topic = sns.createTopic('ops-alerts');
  await coldStart();
});
afterAll(async () => {
  stdout?.mockRestore();
  process.env = savedEnv;
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
});

/** A cold start with this configuration and a fresh table, as after a deployment of the stack. */
async function coldStart(settings: Partial<AuditSettings> = {}): Promise<void> {
  const config: AuditSettings = { clusters: ['prod'], alerts: { topicArn: topic, minSeverity: 'high' }, ...settings };
  tableName = `audit-${randomUUID().slice(0, 8)}`;
  // vitest.config.ts disables EMF output for the suite; these tests read the EMF documents, which Powertools enables at construction.
  Object.assign(process.env, sim.env(), { TABLE_NAME: tableName, AUDIT_CONFIG: JSON.stringify(config), POWERTOOLS_METRICS_DISABLED: 'false' });
  await createTable(sim.env().AWS_ENDPOINT_URL_DYNAMODB!, tableName);
  vi.resetModules();
  ({ handler } = (await import('../../functions/audit/handler.ts')) as { handler: Handler });
}

const invoke = (event: unknown): Promise<AuditReport> => handler(event, fakeContext('cc-test-audit', 300_000));

/** The Scheduled Event of the audit rule, now. */
const scheduled = () => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: sim.account,
  time: sim.clock
    .date()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z'),
  region: sim.region,
  resources: [`arn:aws:events:${sim.region}:${sim.account}:rule/cc-test-audit-schedule`],
  detail: {},
});

/** An ECS Deployment State Change of a service of the world, shaped like test/fixtures/aws-events/ecs-deployment-completed-docs.json. */
const deployed = (service: string, eventName = 'SERVICE_DEPLOYMENT_COMPLETED', cluster = 'prod') => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'ECS Deployment State Change',
  source: 'aws.ecs',
  account: sim.account,
  time: sim.clock
    .date()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z'),
  region: sim.region,
  resources: [sim.ecs.arn(`service/${cluster}/${service}`)],
  detail: {
    eventType: 'INFO',
    eventName,
    deploymentId: `ecs-svc/${Math.floor(sim.clock.now() / 1000)}`,
    updatedAt: sim.clock.date().toISOString(),
    reason: `ECS deployment ${eventName}`,
  },
});

const nextDay = () => sim.clock.advance(DAY);
const messages = () => sns.messages(topic);

/** The EMF documents written while `body` runs, with its result or error. */
async function captureMetrics<T>(body: () => Promise<T>): Promise<{ result?: T; error?: unknown; emf: Array<Record<string, any>> }> {
  const from = emfLines.length;
  const emf = () => emfLines.slice(from).map((l) => JSON.parse(l) as Record<string, any>);
  try {
    const result = await body();
    return { result, emf: emf() };
  } catch (error) {
    return { error, emf: emf() };
  }
}

const findingsMetrics = (emf: Array<Record<string, any>>) =>
  Object.fromEntries(emf.filter((d) => 'AuditFindings' in d).map((d) => [`${d.ClusterName} ${d.Rule} ${d.Severity}`, d.AuditFindings]));

const readRecord = async (id: string) => (await documentClient().send(new GetCommand({ TableName: tableName, Key: { id } }))).Item;

describe('the scheduled audit', () => {
  it('publishes AuditFindings per cluster, rule and severity, and sends one digest of the high findings', async () => {
    const { result, emf } = await captureMetrics(() => invoke(scheduled()));
    expect(result).toMatchObject({
      trigger: 'schedule',
      clusters: [{ cluster: 'prod', services: 4, findings: 8, alertable: 3 }],
      digest: 'sent',
      messageId: messages()[0]!.messageId,
    });

    const counts = findingsMetrics(emf);
    // One value for each of the 20 rules, zeros included, with a bounded set of dimensions.
    expect(Object.keys(counts)).toHaveLength(20);
    expect(counts).toMatchObject({
      'prod deployment-no-headroom high': 1,
      'prod bridge-localhost-sidecar high': 1,
      'prod health-check-needs-shell high': 1,
      'prod stop-timeout-long medium': 0,
      'prod alb-long-deregistration-delay low': 1,
      'prod fargate-cpu-memory-invalid high': 0,
    });
    const doc = emf.find((d) => d.Rule === 'deployment-no-headroom')!;
    expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'EcsCaretaker',
      Dimensions: [expect.arrayContaining(['ClusterName', 'Rule', 'Severity'])],
      Metrics: [{ Name: 'AuditFindings', Unit: 'Count' }],
    });
    expect(emf.find((d) => 'DigestsSent' in d)).toMatchObject({ DigestsSent: 1, ServicesAudited: 4 });

    expect(messages()).toHaveLength(1);
    const [digest] = messages();
    expect(digest!.subject).toBe('ECS audit HIGH: 3 findings - prod');
    expect(digest!.attributes).toEqual({
      kind: { DataType: 'String', StringValue: 'audit-digest' },
      severity: { DataType: 'String', StringValue: 'high' },
      cluster: { DataType: 'String', StringValue: 'prod' },
    });
    const lines = digest!.message.split('\n');
    expect(lines[0]).toBe('ECS audit of prod (eu-west-1): 3 findings at or above high, in 2 services.');
    expect(lines.filter((l) => /^prod\//.test(l))).toEqual(['prod/legacy-api NEW', 'prod/payments-api NEW']);
    expect(lines.filter((l) => l.startsWith('- '))).toEqual([
      '- HIGH deployment-no-headroom: minimumHealthyPercent/maximumPercent leave no room to replace a task',
      '- HIGH bridge-localhost-sidecar: Sidecar reached over localhost in bridge network mode',
      '- HIGH health-check-needs-shell: Container health check needs a shell or tool the image does not have',
    ]);
    expect(digest!.message).toContain('Below high, not listed: 2 medium, 3 low.');

    const record = await readRecord(SCHEDULED_DIGEST_ID);
    expect(Object.keys(record!.sent.services).sort()).toEqual(['prod/legacy-api', 'prod/payments-api']);
    expect(record!.sent.messageId).toBe(digest!.messageId);
    expect(record!.pending).toBeUndefined();
  });

  it('sends no second digest the next day when the findings are the same', async () => {
    await nextDay();
    const { result, emf } = await captureMetrics(() => invoke(scheduled()));
    expect(result!.digest).toBe('unchanged');
    expect(messages()).toHaveLength(1);
    // The metrics are published every run all the same.
    expect(findingsMetrics(emf)['prod deployment-no-headroom high']).toBe(1);
    expect(emf.find((d) => 'DigestsUnchanged' in d)).toMatchObject({ DigestsUnchanged: 1 });
  });

  it('sends one digest when two deliveries of the same event race, and only for what is new', async () => {
    world.services.addService('prod', {
      name: 'search-api',
      taskDefinition: 'orders-worker:1',
      desiredCount: 1,
      minimumHealthyPercent: 100,
      maximumPercent: 100,
      settings: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    const event = scheduled();
    const reports = await Promise.all([invoke(event), invoke(event)]);
    expect(reports.map((r) => r.digest).sort()).toEqual(['sent', 'unchanged']);
    expect(messages()).toHaveLength(2);
    const digest = messages()[1]!;
    expect(digest.subject).toBe('ECS audit HIGH: 4 findings - prod');
    expect(digest.message.split('\n').filter((l) => /^prod\//.test(l))).toEqual(['prod/legacy-api', 'prod/payments-api', 'prod/search-api NEW']);
  });
});

describe('after a deployment', () => {
  it('stays quiet when the deployed service has nothing the last digest did not report', async () => {
    await nextDay();
    const report = await invoke(deployed('payments-api'));
    expect(report).toMatchObject({ trigger: 'deployment', clusters: [{ cluster: 'prod', services: 1, findings: 3, alertable: 1 }], digest: 'unchanged' });
    expect(messages()).toHaveLength(2);
    // Only that service was read.
    expect(sim.calls.filter((c) => c.op === 'ListServices' && c.at === sim.clock.now())).toHaveLength(0);
  });

  it('sends a digest for the service when the deployment brought a new finding, once per deployment', async () => {
    // The new revision waits for an envoy sidecar to be HEALTHY, but envoy has no health check.
    const base = paymentsApiRegister();
    const td = world.taskDefs.register({
      ...base,
      containerDefinitions: [
        { ...base.containerDefinitions![0]!, dependsOn: [{ containerName: 'envoy', condition: 'HEALTHY' }] },
        { name: 'envoy', image: 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.5.0-prod', essential: true, stopTimeout: 10 },
      ],
    });
    // UpdateService is not modelled: the service runs the new revision from now on.
    world.services.service('prod', 'payments-api')!.taskDefinition = sim.ecs.taskDefinition(td.taskDefinitionArn)!;
    const event = deployed('payments-api', 'SERVICE_DEPLOYMENT_FAILED');
    const report = await invoke(event);
    expect(report.digest).toBe('sent');
    expect(messages()).toHaveLength(3);
    const digest = messages()[2]!;
    expect(digest.subject).toBe('ECS audit HIGH: 2 findings after deploy - prod/payments-api');
    expect(digest.attributes.service).toEqual({ DataType: 'String', StringValue: 'payments-api' });
    expect(digest.message).toContain(`Deployment ${event.detail.deploymentId} of prod/payments-api failed. The service now has 2 findings at or above high.`);
    expect(digest.message).toContain(
      '- HIGH depends-on-healthy-without-health-check: dependsOn HEALTHY on a container without a health check\n  In task definition payments-api:2, container api',
    );
    expect((await readRecord(serviceDigestId('prod', 'payments-api')))!.sent.services['prod/payments-api']).toHaveLength(2);

    // EventBridge delivers at least once: the same event again sends nothing.
    expect((await invoke(event)).digest).toBe('unchanged');
    expect(messages()).toHaveLength(3);
  });

  it('the next scheduled digest reports the deployment’s finding as new to the daily digest', async () => {
    await nextDay();
    expect((await invoke(scheduled())).digest).toBe('sent');
    expect(
      messages()[3]!
        .message.split('\n')
        .filter((l) => /^prod\//.test(l)),
    ).toEqual(['prod/legacy-api', 'prod/payments-api NEW', 'prod/search-api']);
  });
});

describe('fixes', () => {
  it('a fix sends nothing, and the finding coming back is new again', async () => {
    const legacy = world.services.service('prod', 'legacy-api')!;
    legacy.maximumPercent = 200;
    await nextDay();
    expect((await invoke(scheduled())).digest).toBe('unchanged');
    expect(messages()).toHaveLength(4);

    legacy.maximumPercent = 100;
    await nextDay();
    expect((await invoke(scheduled())).digest).toBe('sent');
    const digest = messages()[4]!;
    expect(digest.message.split('\n').filter((l) => /^prod\//.test(l))).toEqual(['prod/legacy-api NEW', 'prod/payments-api', 'prod/search-api']);
  });

  it('a publish that fails releases the digest, rethrows for Lambda to retry, and the retry sends it once', async () => {
    world.services.service('prod', 'orders-worker')!.minimumHealthyPercent = 100;
    world.services.service('prod', 'orders-worker')!.maximumPercent = 100;
    await nextDay();
    const event = scheduled();
    sim.faults.failNext('sns', 'Publish', 'AuthorizationError', 1, { message: 'User is not authorized to perform: SNS:Publish' });
    const { error, emf } = await captureMetrics(() => invoke(event));
    expect(error).toMatchObject({ name: 'AuthorizationErrorException' });
    expect(emf.find((d) => 'InvocationFailed' in d)).toMatchObject({ InvocationFailed: 1 });
    expect((await readRecord(SCHEDULED_DIGEST_ID))!.pending).toBeUndefined();
    expect(messages()).toHaveLength(5);

    expect((await invoke(event)).digest).toBe('sent');
    expect(messages()).toHaveLength(6);
    expect(messages()[5]!.message).toContain('prod/orders-worker NEW');
  });
});

describe('input the function refuses or cannot audit', () => {
  it('a malformed event: a clear error naming the field, rethrown for the DLQ', async () => {
    const event = { ...deployed('payments-api'), detail: { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', deploymentId: 'ecs-svc/1' } };
    const { error, emf } = await captureMetrics(() => invoke(event));
    expect(error).toMatchObject({
      name: 'InvalidInvocationError',
      message:
        'Invalid ECS Deployment State Change event: detail.eventName: expected SERVICE_DEPLOYMENT_COMPLETED or SERVICE_DEPLOYMENT_FAILED, got "SERVICE_DEPLOYMENT_IN_PROGRESS"',
    });
    expect(emf.find((d) => 'InvocationFailed' in d)).toMatchObject({ InvocationFailed: 1 });
  });

  it('a deployment in a cluster that is not configured is not audited', async () => {
    const calls = sim.calls.length;
    expect(await invoke(deployed('web', 'SERVICE_DEPLOYMENT_COMPLETED', 'staging'))).toEqual({ trigger: 'deployment', clusters: [], digest: 'out-of-scope' });
    expect(sim.calls.length).toBe(calls);
  });

  it('a cluster that cannot be read: the others are published and digested, then the invocation fails', async () => {
    await coldStart({ clusters: ['prod', 'staging'] });
    const { error, emf } = await captureMetrics(() => invoke(scheduled()));
    expect(error).toMatchObject({
      name: 'AuditRunError',
      message: 'Could not audit cluster staging (ListServices on cluster "staging" failed: ClusterNotFoundException: Cluster not found.)',
    });
    expect(emf.find((d) => 'ClusterAuditFailed' in d)).toMatchObject({ ClusterName: 'staging', ClusterAuditFailed: 1 });
    // legacy-api, search-api and orders-worker cannot replace a task by now.
    expect(findingsMetrics(emf)['prod deployment-no-headroom high']).toBe(3);
    const digest = messages().at(-1)!;
    expect(digest.subject).toBe('ECS audit HIGH: 6 findings - prod');
    expect(digest.message).toContain('Could not audit cluster staging: ListServices on cluster "staging" failed: ClusterNotFoundException: Cluster not found.');
  });

  it('without a topic: metrics only', async () => {
    await coldStart({ alerts: { minSeverity: 'high' } });
    const before = messages().length;
    const { result, emf } = await captureMetrics(() => invoke(scheduled()));
    expect(result!.digest).toBe('no-topic');
    expect(Object.keys(findingsMetrics(emf))).toHaveLength(20);
    expect(messages()).toHaveLength(before);
  });
});
