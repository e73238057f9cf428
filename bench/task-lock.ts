/**
 * task-lock: DynamoDB and ECS calls per occurrence, against the simulator and
 * dynalite, with the real logic and the handler's client settings: the normal
 * path, duplicate deliveries, a skip, an ambiguous RunTask resolved by the
 * retry, and overruns under onOverrun skip and stop-previous.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { parseConfig, type Job } from '../functions/shared/config.ts';
import { countBy, countsText } from '../functions/shared/count.ts';
import { clientConfig } from '../functions/shared/lambda.ts';
import { createStore } from '../functions/shared/store.ts';
import { runOccurrence, type OccurrenceOutcome, type TaskLockDeps } from '../functions/task-lock/lock.ts';
import { createTable, startSim } from '../sim/index.ts';

export async function benchTaskLock(): Promise<string> {
  const sim = await startSim({ start: new Date('2026-11-24T01:00:00Z') });
  try {
    sim.ecs.addCluster('bench');
    sim.ecs.addContainerInstance('bench', { ec2InstanceId: 'i-0bench0000000001', cpu: 8192, memory: 16384 });
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
    const job = (name: string, extra: object = {}) => ({
      name,
      cluster: 'bench',
      taskDefinition: 'job',
      launchType: 'EC2',
      schedule: { expression: 'rate(1 hour)' },
      maxRunSeconds: 3600,
      ...extra,
    });
    const config = parseConfig({
      clusters: [{ name: 'bench' }],
      jobs: [
        job('job'),
        job('lost'),
        // runs of 600 s overrun a maxRunSeconds of 300
        job('overrun-skip', { maxRunSeconds: 300 }),
        job('overrun-stop', { maxRunSeconds: 300, onOverrun: 'stop-previous' }),
      ],
    });
    const jobNamed = (name: string) => config.jobs.find((j) => j.name === name)!;
    const deps: TaskLockDeps = {
      ecs: new ECSClient({ ...clientConfig, endpoint: sim.endpoint, region: sim.region, credentials }),
      store: createStore(DynamoDBDocumentClient.from(ddb), 'bench'),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'bench' }),
      now: () => sim.clock.now(),
      remainingMs: () => 25_000,
      jobs: config.jobs,
      lockRetentionHours: 168,
      deployment: 'ecs-caretaker-bench',
    };
    const invocation = (j: Job) => ({
      kind: 'occurrence' as const,
      job: j,
      occurrence: sim.clock.date().toISOString(),
      via: 'scheduler' as const,
      deliveryId: 'bench',
    });

    const rows: string[] = [
      'ECS calls count every SDK attempt the simulator received. "Per occurrence" sums all deliveries of the occurrence.',
      '',
      '| path | deliveries | outcomes | tasks started | ECS calls | ECS calls per occurrence | DynamoDB calls | DynamoDB calls per occurrence |',
      '|---|---:|---|---:|---|---:|---|---:|',
    ];
    /** Runs `deliveries` of one occurrence, one batch after another (a batch runs concurrently), and adds a row. */
    const measure = async (label: string, j: Job, batches: number[]) => {
      const ecsBefore = sim.calls.length;
      const tasksBefore = sim.ecs.tasks().length;
      for (const k of Object.keys(ddbCalls)) delete ddbCalls[k];
      const inv = invocation(j);
      const outcomes: string[] = [];
      for (const [b, size] of batches.entries()) {
        const results = await Promise.allSettled(Array.from({ length: size }, (_, i) => runOccurrence(deps, inv, `bench-${label}-${b}-${i}`)));
        outcomes.push(...results.map((r) => (r.status === 'fulfilled' ? (r.value as OccurrenceOutcome).outcome : `error (${(r.reason as Error).name})`)));
      }
      const ecs = sim.calls.slice(ecsBefore);
      const ddbTotal = Object.values(ddbCalls).reduce((a, b) => a + b, 0);
      const ddbText = Object.entries(ddbCalls)
        .map(([op, n]) => `${n} ${op.replace('Command', '')}`)
        .join(', ');
      const deliveries = batches.reduce((a, b) => a + b, 0);
      rows.push(
        `| ${label} | ${deliveries} | ${countsText(countBy(outcomes))} | ${sim.ecs.tasks().length - tasksBefore} | ${countsText(countBy(ecs.map((c) => c.op))) || '0'} | ${ecs.length} | ${ddbTotal} (${ddbText}) | ${ddbTotal} |`,
      );
    };

    await measure('normal: job idle, one delivery', jobNamed('job'), [1]);
    await sim.clock.advance(60_000);
    await measure('skip: next occurrence while the previous run is RUNNING', jobNamed('job'), [1]);
    await sim.clock.advance(3600_000);
    await measure('duplicates: 50 concurrent deliveries of one occurrence, the previous run STOPPED but its event not processed', jobNamed('job'), [50]);

    // RunTask applied, its answer lost on all five SDK attempts; Lambda's retry resolves it through ECS.
    sim.faults.failNext('ecs', 'RunTask', 'ServerException', 5, { afterApply: true });
    await measure('ambiguous failure resolved: RunTask applied, every answer lost, then the retry', jobNamed('lost'), [1, 1]);

    for (const name of ['overrun-skip', 'overrun-stop']) {
      await measure(`${name === 'overrun-skip' ? 'overrun, onOverrun skip' : 'overrun, onOverrun stop-previous'}: first run`, jobNamed(name), [1]);
      await sim.clock.advance(400_000);
      await measure(
        `${name === 'overrun-skip' ? 'overrun, onOverrun skip' : 'overrun, onOverrun stop-previous'}: next occurrence, 400 s later`,
        jobNamed(name),
        [1],
      );
    }
    return rows.join('\n');
  } finally {
    await sim.close();
  }
}
