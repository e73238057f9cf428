/**
 * thin-pool: a deployment places a web task on a devicemapper host whose thin
 * pool is nearly full, and the image pull fails. stopped-watch classifies the
 * stop, alerts with the fix, and puts "Cleanup Requested"; the cleanup
 * function sends the docker-cleanup document to that one instance, and
 * collects the report line the script prints when it is done.
 */
import type { CleanupReport } from '../../functions/cleanup/document-contract.ts';
import { bytes } from '../describe.ts';
import type { Scenario } from '../runner.ts';
import { INSTANCES } from '../world.ts';

/** As the ECS agent reports it (ECS developer guide, "CannotPullContainer task errors"). */
export const THIN_POOL_REASON =
  'CannotPullContainerError: failed to register layer: devmapper: Thin Pool has 4350 free data blocks which is less than minimum required 4454 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior';

const BLOCK = 524_288;
const GiB = 1024 ** 3;

/** What docker-cleanup.sh prints on a devicemapper host after removing dead containers and trimming the running ones. */
function report(instance: string): CleanupReport {
  const before = 4350 * BLOCK;
  const after = 27 * GiB;
  return {
    v: 1,
    instance,
    driver: 'devicemapper',
    dryRun: false,
    exitCode: 0,
    status: 'ok',
    freeBytesBefore: before,
    freeBytesAfter: after,
    reclaimedBytes: after - before,
    trimmedBytes: 18 * GiB,
    freePercentBefore: 2,
    freePercentAfter: 27,
    minFreePercent: 10,
    freeInodesBefore: null,
    freeInodesAfter: null,
    metadataFreeBytesBefore: 1_610_612_736,
    metadataFreeBytesAfter: 1_879_048_192,
    containers: { removed: 23, wouldRemove: 0, skipped: 4, protected: 6, failed: 0 },
    volumes: { removed: 4, wouldRemove: 0, skipped: 0, failed: 0 },
    trim: { enabled: true, runs: 6, wouldRun: 0, skipped: 0, failed: 0, budgetExhausted: false },
    dockerDf: { before: null, after: null },
    errorCount: 0,
    errors: [],
    durationSeconds: 41,
  };
}

export const thinPoolScenario: Scenario = {
  name: 'thin-pool',
  title: 'an image pull fails on a full devicemapper thin pool: classified, alerted, cleanup requested, run and reported',
  start: '2026-11-24T14:00:00Z',
  async run({ world, sim, timeline, fn, check }) {
    const host = INSTANCES[2];
    const line = report(host);
    world.ssm.setResult(host, { exitCode: 0, stdout: `${JSON.stringify(line)}\n`, durationMs: line.durationSeconds * 1000 });
    const web = world.drain.services.addService('demo', {
      name: 'web',
      taskDefinition: 'web',
      on: [
        { instance: INSTANCES[0], count: 1 },
        { instance: INSTANCES[1], count: 1 },
      ],
    });
    await sim.clock.advance(10_000);
    const watch = await fn('stopped-watch');
    const cleanup = await fn('cleanup');

    timeline.heading(`Scenario thin-pool — a deployment of web places a task on ${host}, a devicemapper host whose thin pool is nearly full`);
    const hostArn = sim.ecs.containerInstance(host)!.arn;
    const deployedAt = sim.clock.now();
    world.narrateTasks((t) => t.containerInstanceArn === hostArn && t.createdAt >= deployedAt);
    const task = world.drain.services.runStandalone(host, 'web', { group: 'service:web', startedBy: web.startedBy });
    sim.clock.after(2_000, () => void sim.ecs.exitTask(task.arn, { stopCode: 'TaskFailedToStart', reason: THIN_POOL_REASON }));

    const collected = () => cleanup.invocations.filter(({ outcome }) => outcome.result?.outcome === 'collected');
    for (let t = 0; t < 10 * 60_000 && collected().length === 0; t += 5_000) await sim.clock.advance(5_000);
    await sim.clock.advance(30_000);

    const classified = watch.invocations.flatMap(({ outcome }) => outcome.result?.records ?? []).filter((r: any) => r.outcome === 'classified');
    const categories = [...new Set(classified.map((r: any) => r.category))];
    check(
      'stopped-watch classified the stop as image-pull-disk-full',
      categories.length === 1 && categories[0] === 'image-pull-disk-full',
      categories.join(', ') || 'not classified',
    );
    const alerts = world.sns.messages(world.alertTopic);
    check('exactly one alert, with the fix', alerts.length === 1, alerts.map((m) => `"${m.subject}"`).join(', ') || 'none');
    const requests = world.eventBridge.accepted('Cleanup Requested');
    check('exactly one Cleanup Requested event', requests.length === 1, `${requests.length}`);
    const commands = world.ssm.commands;
    check(
      'exactly one SendCommand, to that instance only',
      commands.length === 1 && commands[0]!.instanceIds.join() === host,
      commands.map((c) => `${c.documentName} → ${c.instanceIds.join(', ')}`).join('; ') || 'none',
    );
    const reports = collected().map(({ outcome }) => outcome.result.classification.output.report as CleanupReport | undefined);
    const reclaimed = reports[0]?.reclaimedBytes;
    check(
      'the report was collected once, with the bytes the script reclaimed',
      reports.length === 1 && reclaimed === line.reclaimedBytes,
      reports.length ? `reclaimed ${bytes(reclaimed)}, trimmed ${bytes(reports[0]?.trimmedBytes)}` : 'no report',
    );
  },
};
