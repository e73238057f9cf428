/**
 * task-lock: DynamoDB and ECS calls for one occurrence delivered 50 times at
 * once, against the simulator and dynalite, with the real logic and clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { parseConfig } from '../functions/shared/config.ts';
import { createStore } from '../functions/shared/store.ts';
import { runOccurrence } from '../functions/task-lock/lock.ts';
import { createTable, startSim } from '../sim/index.ts';
import { countBy, countsText } from '../functions/shared/count.ts';

export async function benchTaskLock(): Promise<string> {
  const sim = await startSim({ start: new Date('2026-11-24T01:00:00Z') });
  try {
    sim.ecs.addCluster('bench');
    sim.ecs.addContainerInstance('bench', { ec2InstanceId: 'i-0bench0000000001' });
    sim.ecs.defineTaskDefinition('job', { runSeconds: 600 });
    await createTable(sim.dynamo.endpoint, 'bench');
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    const ddb = new DynamoDBClient({ endpoint: sim.dynamo.endpoint, region: sim.region, credentials });
    const ddbCalls: Record<string, number> = {};
    ddb.middlewareStack.add(
      (next, context) => async (args) => {
        ddbCalls[context.commandName!] = (ddbCalls[context.commandName!] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const config = parseConfig({
      clusters: [{ name: 'bench' }],
      jobs: [{ name: 'job', cluster: 'bench', taskDefinition: 'job', launchType: 'EC2', schedule: { expression: 'rate(1 hour)' }, maxRunSeconds: 3600 }],
    });
    const deps = {
      ecs: new ECSClient({ endpoint: sim.endpoint, region: sim.region, credentials }),
      store: createStore(DynamoDBDocumentClient.from(ddb), 'bench'),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'bench' }),
      now: () => sim.clock.now(),
      remainingMs: () => 25_000,
      jobs: config.jobs,
      lockRetentionHours: 168,
      deployment: 'ecs-caretaker-bench',
    };
    const invocation = {
      kind: 'occurrence' as const,
      job: config.jobs[0]!,
      occurrence: sim.clock.date().toISOString(),
      via: 'scheduler' as const,
      deliveryId: 'bench',
    };

    const rows: string[] = [
      '| scenario | deliveries | tasks started | ECS calls | DynamoDB calls | DynamoDB calls per delivery |',
      '|---|---:|---:|---:|---:|---:|',
    ];
    const measure = async (label: string, deliveries: number, at: string) => {
      const ecsBefore = sim.calls.length;
      for (const k of Object.keys(ddbCalls)) delete ddbCalls[k];
      const results = await Promise.all(
        Array.from({ length: deliveries }, (_, i) => runOccurrence(deps, { ...invocation, occurrence: at }, `bench-${label}-${i}`)),
      );
      const ecs = sim.calls.slice(ecsBefore);
      const ddbTotal = Object.values(ddbCalls).reduce((a, b) => a + b, 0);
      const ecsText = countsText(countBy(ecs.map((c) => c.op))) || '0';
      const ddbText = Object.entries(ddbCalls)
        .map(([op, n]) => `${n} ${op.replace('Command', '')}`)
        .join(', ');
      rows.push(
        `| ${label} | ${deliveries} | ${results.filter((r) => r.outcome === 'started').length} | ${ecsText} | ${ddbTotal} (${ddbText}) | ${(ddbTotal / deliveries).toFixed(1)} |`,
      );
    };
    await measure('one occurrence, 50 concurrent deliveries, job idle', 50, invocation.occurrence);
    await sim.clock.advance(60_000);
    await measure('next occurrence while the first run is RUNNING (skip)', 1, sim.clock.date().toISOString());
    return rows.join('\n');
  } finally {
    await sim.close();
  }
}
