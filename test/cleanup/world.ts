/**
 * A simulated world for the cleanup function: ECS container instances
 * (installDrainWorld brings ListContainerInstances/DescribeContainerInstances),
 * Systems Manager with the real cleanup document's parameters, and the table.
 * The handler is imported after its environment points at the simulator, as
 * Lambda would start it.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { fakeContext } from '../../demo/context.ts';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import type { CleanupEnv } from '../../functions/cleanup/settings.ts';
import { cleanupDocumentParameters, type CleanupReport } from '../../infra/ssm-document.ts';
import { installDrainWorld } from '../../sim/drain.ts';
import { createTable, startSim, type Sim } from '../../sim/index.ts';
import { installSsm, type SsmSim } from '../../sim/ssm.ts';

export const T0 = new Date('2026-11-23T03:00:00Z');
export const PREFIX = 'cc-test';
export const DOCUMENT = `${PREFIX}-docker-cleanup`;
export const ALARM_PREFIX = `${PREFIX}-cleanup`;

/** A valid, distinct EC2 instance id per number. */
export const ec2Id = (n: number): string => `i-0${n.toString(16).padStart(16, '0')}`;

export interface CleanupWorld {
  sim: Sim;
  ssm: SsmSim;
  /** Container instances in `cluster`, registered and Online in SSM; returns their EC2 ids. */
  addFleet(cluster: string, from: number, count: number): string[];
  close(): Promise<void>;
}

export async function startWorld(clusters: string[], seed = 5): Promise<CleanupWorld> {
  const sim = await startSim({ start: T0, seed });
  installDrainWorld(sim, { seed });
  const ssm = installSsm(sim, { seed });
  ssm.addDocument(DOCUMENT, cleanupDocumentParameters, { stepName: 'dockerCleanup' });
  for (const cluster of clusters) sim.ecs.addCluster(cluster);
  return {
    sim,
    ssm,
    addFleet(cluster, from, count) {
      const ids: string[] = [];
      for (let n = from; n < from + count; n++) {
        const id = ec2Id(n);
        sim.ecs.addContainerInstance(cluster, { ec2InstanceId: id });
        ssm.registerInstance(id);
        ids.push(id);
      }
      return ids;
    },
    close: () => sim.close(),
  };
}

export type Handler = (event: unknown, context: Context) => Promise<any>;

/**
 * A cold start with this configuration and a fresh table: the handler module
 * and its clients are new, as after a deployment.
 */
export async function coldStart(world: CleanupWorld, input: Partial<CaretakerConfigInput> & { clusters: CaretakerConfigInput['clusters'] }): Promise<{ handler: Handler; tableName: string }> {
  const config = parseConfig(input);
  const env: CleanupEnv = { clusters: config.clusters.map((c) => c.name), cleanup: config.cleanup, alarmNamePrefix: ALARM_PREFIX };
  const tableName = `cleanup-${randomUUID().slice(0, 8)}`;
  await createTable(world.sim.dynamo.endpoint, tableName);
  Object.assign(process.env, world.sim.env(), { TABLE_NAME: tableName, CLEANUP_CONFIG: JSON.stringify(env), CLEANUP_DOCUMENT_NAME: DOCUMENT });
  vi.resetModules();
  const { handler } = (await import('../../functions/cleanup/handler.ts')) as { handler: Handler };
  return { handler, tableName };
}

export const invoke = (world: CleanupWorld, handler: Handler, event: unknown) => {
  // The handler reads Date.now(); keep it on the simulated clock (the tests fake Date only).
  vi.setSystemTime(world.sim.clock.now());
  return handler(structuredClone(event), fakeContext(`${PREFIX}-cleanup`));
};

/** A report line as docker-cleanup.sh prints it after a real run. */
export function reportLine(overrides: Partial<CleanupReport> = {}): string {
  const report: CleanupReport = {
    v: 1,
    instance: 'i-00000000000000001',
    driver: 'overlay2',
    dryRun: false,
    exitCode: 0,
    status: 'ok',
    freeBytesBefore: 40_000_000_000,
    freeBytesAfter: 52_000_000_000,
    reclaimedBytes: 12_000_000_000,
    trimmedBytes: 0,
    freePercentBefore: 40,
    freePercentAfter: 52,
    minFreePercent: 10,
    freeInodesBefore: 5_000_000,
    freeInodesAfter: 5_100_000,
    metadataFreeBytesBefore: null,
    metadataFreeBytesAfter: null,
    containers: { removed: 37, wouldRemove: 0, skipped: 12, protected: 9, failed: 0 },
    volumes: { removed: 5, wouldRemove: 0, skipped: 1, failed: 0 },
    trim: { enabled: false, runs: 0, wouldRun: 0, skipped: 0, failed: 0, budgetExhausted: false },
    dockerDf: { before: null, after: null },
    errorCount: 0,
    errors: [],
    durationSeconds: 14,
    ...overrides,
  };
  return JSON.stringify(report);
}
