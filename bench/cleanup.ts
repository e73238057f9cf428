/**
 * cleanup: API calls to send one fleet-wide cleanup to clusters of 10 to
 * 5,000 instances (the real run logic and SDK clients against the simulator
 * and dynalite), and the docker cleanup script's run time over 10,000 fake
 * containers (infra/ssm/docker-cleanup.sh run by bash against the fakes of
 * test/cleanup).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { throttlingOnlyRetryStrategy } from '../functions/cleanup/retry.ts';
import { runCleanup, type CleanupDeps } from '../functions/cleanup/run.ts';
import type { RunInput } from '../functions/cleanup/input.ts';
import { cleanupSchema } from '../functions/shared/config.ts';
import { createStore } from '../functions/shared/store.ts';
import { cleanupDocumentParameters } from '../functions/cleanup/document-contract.ts';
import { installDrainWorld } from '../sim/drain.ts';
import { createTable, startSim } from '../sim/index.ts';
import { installSsm } from '../sim/ssm.ts';
import { hexId, runCleanupScript, secondsAgo, type FakeContainer } from '../test/cleanup/harness.ts';
import { countBy, countsText } from '../functions/shared/count.ts';

const DOCUMENT = 'bench-docker-cleanup';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

interface FleetRow {
  label: string;
  instances: number;
  seconds: number;
  sendCommand: number;
  sendAttempts: number;
  sent: number;
  ecs: string;
  ssmReads: number;
  dynamo: number;
  duplicateSend: number;
  duplicateDynamo: number;
}

const countedText = (values: string[]) => countsText(countBy(values));

async function fleetRun(instances: number, opts: { throttle?: number } = {}): Promise<FleetRow> {
  const sim = await startSim({ start: new Date('2026-11-24T03:00:00Z'), seed: 9 });
  try {
    installDrainWorld(sim);
    const ssmSim = installSsm(sim);
    ssmSim.addDocument(DOCUMENT, cleanupDocumentParameters, { stepName: 'dockerCleanup' });
    sim.ecs.addCluster('bench');
    for (let n = 1; n <= instances; n++) {
      const id = `i-0${n.toString(16).padStart(16, '0')}`;
      sim.ecs.addContainerInstance('bench', { ec2InstanceId: id });
      ssmSim.registerInstance(id);
    }
    await createTable(sim.dynamo.endpoint, 'bench');
    const ddb = new DynamoDBClient({ endpoint: sim.dynamo.endpoint, region: sim.region, credentials });
    let dynamoCalls = 0;
    ddb.middlewareStack.add(
      (next) => async (args) => {
        dynamoCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const client = { endpoint: sim.endpoint, region: sim.region, credentials };
    const deps = (owner: string): CleanupDeps => ({
      ecs: new ECSClient(client),
      ssm: new SSMClient(client),
      ssmSend: new SSMClient({ ...client, retryStrategy: throttlingOnlyRetryStrategy(5) }),
      store: createStore(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), 'bench'),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'bench' }),
      now: Date.now,
      owner,
      settings: { clusters: ['bench'], cleanup: cleanupSchema.parse({}), alarmNamePrefix: 'bench-cleanup', documentName: DOCUMENT },
    });
    const input: RunInput = { kind: 'run', trigger: { kind: 'schedule', detail: 'bench' }, scopes: [{ kind: 'cluster', cluster: 'bench' }], dryRun: false };
    if (opts.throttle) sim.faults.set({ throttle: opts.throttle, services: ['ssm'], ops: ['SendCommand'] });

    const callsBefore = sim.calls.length;
    const started = performance.now();
    const result = await runCleanup(deps('bench-1'), input);
    const seconds = (performance.now() - started) / 1000;
    const calls = sim.calls.slice(callsBefore);
    const dynamo = dynamoCalls;
    sim.faults.clear();

    // The same trigger again within dedupSeconds (a duplicate EventBridge delivery).
    const again = sim.calls.length;
    await runCleanup(deps('bench-2'), input);
    const sends = calls.filter((c) => c.op === 'SendCommand');
    return {
      label: opts.throttle
        ? `${instances.toLocaleString('en-US')} instances, ${opts.throttle * 100}% of SendCommand attempts throttled`
        : `${instances.toLocaleString('en-US')} instances`,
      instances,
      seconds,
      sendCommand: sends.filter((c) => !c.error).length,
      sendAttempts: sends.length,
      sent: result.clusters.reduce((n, c) => n + c.commands.reduce((m, k) => m + k.instanceIds.length, 0), 0),
      ecs: countedText(calls.filter((c) => c.service === 'ecs').map((c) => c.op)),
      ssmReads: calls.filter((c) => c.service === 'ssm' && c.op !== 'SendCommand').length,
      dynamo,
      duplicateSend: sim.calls.slice(again).filter((c) => c.op === 'SendCommand').length,
      duplicateDynamo: dynamoCalls - dynamo,
    };
  } finally {
    await sim.close();
  }
}

/** The labels the ECS agent sets; the script removes only containers that carry them (Scope ecs). */
const ecsLabels = (i: number) => ({
  'com.amazonaws.ecs.task-arn': `arn:aws:ecs:eu-west-1:123456789012:task/bench/${i.toString(16).padStart(32, '0')}`,
  'com.amazonaws.ecs.container-name': 'web',
  'com.amazonaws.ecs.cluster': 'bench',
});

/**
 * 10,000 containers: 60% exited long ago (removed; every other one with an
 * anonymous volume of its own, removed with it by rm -v), 20% exited within
 * the grace period, 20% running. All carry the ECS labels.
 */
function containers(count: number): FakeContainer[] {
  return Array.from({ length: count }, (_, i): FakeContainer => {
    const kind = i % 10;
    const labels = ecsLabels(i);
    if (kind < 6)
      return {
        id: hexId(i),
        name: `old-${i}`,
        state: 'exited',
        finishedAt: secondsAgo(2 * 86_400),
        labels,
        ...(i % 2 ? { mounts: [{ name: hexId(i, 0xb) }] } : {}),
      };
    if (kind < 8) return { id: hexId(i), name: `recent-${i}`, state: 'exited', finishedAt: secondsAgo(60), labels };
    return { id: hexId(i), name: `running-${i}`, state: 'running', pid: 1000 + i, labels };
  });
}

export async function scriptRun(count: number, dryRun: boolean): Promise<string> {
  const run = await runCleanupScript({ containers: containers(count) }, { CC_DRY_RUN: String(dryRun) });
  if (run.code !== 0 || !run.report) throw new Error(`bench: the cleanup script exited ${run.code}: ${run.stderr.slice(-500)}`);
  const c = run.report.containers;
  const dockerCalls = run.calls.filter((k) => k.cmd === 'docker');
  return `| ${count.toLocaleString('en-US')} | ${dryRun ? 'dry run' : 'real'} | ${(run.durationMs / 1000).toFixed(1)} s | ${dryRun ? c.wouldRemove : c.removed} | ${c.skipped} | ${dockerCalls.length} (${countedText(dockerCalls.map((k) => (k.args[0] === 'volume' || k.args[0] === 'system' ? `${k.args[0]} ${k.args[1]}` : k.args[0]!)))}) | ${run.stdout.trim().length} |`;
}

export async function benchCleanup(): Promise<string> {
  const fleet: FleetRow[] = [];
  for (const size of [10, 100, 1000, 5000]) fleet.push(await fleetRun(size));
  fleet.push(await fleetRun(1000, { throttle: 0.2 }));
  const script: string[] = [];
  for (const [count, dryRun] of [
    [1000, false],
    [10_000, true],
    [10_000, false],
  ] as const)
    script.push(await scriptRun(count, dryRun));

  return [
    'One fleet-wide run (schedule trigger) on a cluster whose instances are all ACTIVE and Online, then the same trigger again at once.',
    '',
    '| fleet | SendCommand calls (attempts) | instances sent | ECS calls | SSM reads | DynamoDB calls | run time | duplicate trigger: SendCommand / DynamoDB calls |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...fleet.map(
      (r) =>
        `| ${r.label} | ${r.sendCommand} (${r.sendAttempts}) | ${r.sent} | ${r.ecs} | ${r.ssmReads} DescribeInstanceInformation | ${r.dynamo} | ${r.seconds.toFixed(1)} s | ${r.duplicateSend} / ${r.duplicateDynamo} |`,
    ),
    '',
    'SendCommand takes at most 50 instances, DescribeContainerInstances 100, DescribeInstanceInformation is asked 50 ids at a time; DynamoDB holds one conditional dedup write per instance and one record per command.',
    '',
    "docker-cleanup.sh against the fake docker CLI (one node process per docker call; a real daemon answers faster, so this is an upper bound for the script's own work). Containers, all with the ECS agent's labels: 60% exited two days ago (half of them with an anonymous volume of their own, removed with rm -v), 20% exited a minute ago, 20% running.",
    '',
    '| containers | mode | run time | removed / would remove | kept | docker calls | report line (chars) |',
    '|---:|---|---:|---:|---:|---|---:|',
    ...script,
  ].join('\n');
}
