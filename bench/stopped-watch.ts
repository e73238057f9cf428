/**
 * stopped-watch: classification throughput over the real payloads and stop
 * reasons, and what the alert path costs in DynamoDB calls per event, with the
 * real logic and SDK clients against the simulator (SNS, EventBridge, ECS)
 * and dynalite.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createStore } from '../functions/shared/store.ts';
import { createAlertStore } from '../functions/stopped-watch/alert-store.ts';
import { classifyEvent, classifyReason } from '../functions/stopped-watch/classify.ts';
import type { StoppedWatchSettings } from '../functions/stopped-watch/settings.ts';
import { flushAlerts, handleEvent, patternsFor, type WatchDeps } from '../functions/stopped-watch/watch.ts';
import { installDrainWorld } from '../sim/drain.ts';
import { installEventBridge } from '../sim/eventbridge.ts';
import { createTable, startSim } from '../sim/index.ts';
import { installSns } from '../sim/sns.ts';
import { loadAwsEvents, loadStoppedReasons } from '../test/support/fixtures.ts';
import { benchCorpus } from './corpus.ts';
import { oomStop, stoppedTask, thinPoolStop } from '../test/stopped-watch/support.ts';
import { countBy, countsText } from '../functions/shared/count.ts';

/** Classifies every fixture event and every sample reason, round after round, for about `ms`. */
function classificationThroughput(ms = 1000): { perSecond: number; microseconds: number; inputs: number; total: number } {
  const events = [...loadAwsEvents().values()];
  const reasons = loadStoppedReasons();
  const inputs = events.length + reasons.length;
  let total = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const event of events) sink += classifyEvent(event)?.reason.length ?? 0;
    for (const r of reasons)
      sink += classifyReason(r.text, r.field === 'stopCode' ? { field: 'stopCode', stopCode: r.text } : { field: r.field }).reason.length;
    total += inputs;
    elapsed = performance.now() - started;
  }
  // The sum is used so the work cannot be optimised away.
  if (sink < 0) throw new Error('unreachable');
  return { perSecond: Math.round(total / (elapsed / 1000)), microseconds: (elapsed * 1000) / total, inputs, total };
}

export async function benchStoppedWatch(): Promise<string> {
  const throughput = classificationThroughput();
  const sim = await startSim({ start: new Date('2026-11-24T10:00:00Z') });
  try {
    installDrainWorld(sim);
    const sns = installSns(sim);
    installEventBridge(sim);
    const topicArn = sns.createTopic('bench-alerts');
    sim.ecs.addCluster('prod');
    const instance = sim.ecs.addContainerInstance('prod', { ec2InstanceId: 'i-0bench0000000001' });
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    const client = { endpoint: sim.endpoint, region: sim.region, credentials };

    const ddbCalls: Record<string, number> = {};
    const newDeps = async (): Promise<WatchDeps> => {
      const tableName = `bench-${randomUUID().slice(0, 8)}`;
      await createTable(sim.dynamo.endpoint, tableName);
      const ddb = new DynamoDBClient({ endpoint: sim.dynamo.endpoint, region: sim.region, credentials });
      ddb.middlewareStack.add(
        (next, context) => async (args) => {
          const op = context.commandName!.replace(/Command$/, '');
          ddbCalls[op] = (ddbCalls[op] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'countCalls' },
      );
      const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
      const settings: StoppedWatchSettings = { clusters: ['prod'], alerts: { topicArn, minSeverity: 'high', windowMinutes: 10 }, requestCleanup: true };
      return {
        sns: new SNSClient(client),
        events: new EventBridgeClient(client),
        alerts: createAlertStore(doc, tableName),
        store: createStore(doc, tableName),
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: new Metrics({ namespace: 'bench' }),
        now: () => sim.clock.now(),
        settings,
        region: sim.region,
        newOwner: () => randomUUID(),
        patterns: patternsFor(settings),
      };
    };

    const rows = ['| scenario | events | alerts sent | other AWS calls | DynamoDB calls | DynamoDB calls per event |', '|---|---:|---:|---:|---:|---:|'];
    const measure = async (label: string, run: (deps: WatchDeps) => Promise<number>) => {
      const deps = await newDeps();
      for (const k of Object.keys(ddbCalls)) delete ddbCalls[k];
      const published = sns.messages(topicArn).length;
      const callsBefore = sim.calls.length;
      const events = await run(deps);
      const others = countBy(sim.calls.slice(callsBefore).map((c) => c.op));
      const total = Object.values(ddbCalls).reduce((a, b) => a + b, 0);
      const breakdown = countsText(ddbCalls);
      const otherText = countsText(others) || '0';
      rows.push(
        `| ${label} | ${events} | ${sns.messages(topicArn).length - published} | ${otherText} | ${total}${breakdown ? ` (${breakdown})` : ''} | ${(total / events).toFixed(2)} |`,
      );
    };

    await measure('100 OOM stops of one service within 5 min, then the flush after the window', async (deps) => {
      for (let i = 0; i < 100; i++) {
        await handleEvent(deps, oomStop({ service: 'burst' }));
        await sim.clock.advance(3000);
      }
      await sim.clock.advance(10 * 60_000);
      await flushAlerts(deps);
      return 100;
    });
    await measure('one OOM stop delivered 3 times concurrently', async (deps) => {
      const event = oomStop({ service: 'dup' });
      await Promise.all([1, 2, 3].map(() => handleEvent(deps, structuredClone(event))));
      return 3;
    });
    await measure('20 stops below minSeverity (essential container exit 1)', async (deps) => {
      for (let i = 0; i < 20; i++)
        await handleEvent(
          deps,
          stoppedTask({ service: 'quiet', stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 1 }),
        );
      return 20;
    });
    await measure('thin-pool stop on EC2 delivered twice (alert + cleanup request)', async (deps) => {
      const event = thinPoolStop({ service: 'disk', containerInstanceId: instance.id });
      await handleEvent(deps, event);
      await handleEvent(deps, structuredClone(event));
      return 2;
    });
    await measure('flush with nothing pending (per minute, idle)', async (deps) => {
      await flushAlerts(deps);
      return 1;
    });

    return [
      `Classification (pure, no AWS call): ${throughput.perSecond.toLocaleString('en-US')} classifications/s, ${throughput.microseconds.toFixed(2)} µs each, over the ${throughput.inputs} real inputs (every file in aws-events and every stop reason in stopped-reasons-sample.json) for about 1 s (${throughput.total.toLocaleString('en-US')} classifications).`,
      '',
      benchCorpus(),
      '',
      'Alert path against the simulator. "Other AWS calls" are SNS Publish and EventBridge PutEvents; the flush row is a Scan of an empty table.',
      '',
      ...rows,
    ].join('\n');
  } finally {
    await sim.close();
  }
}
