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
import { fakeContext } from '../../sim/lambda.ts';
export { reportLine } from '../support/cleanup-report.ts';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import type { CleanupEnv } from '../../functions/cleanup/settings.ts';
import { cleanupDocumentParameters } from '../../functions/cleanup/document-contract.ts';
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
export async function coldStart(
  world: CleanupWorld,
  input: Partial<CaretakerConfigInput> & { clusters: CaretakerConfigInput['clusters'] },
): Promise<{ handler: Handler; tableName: string }> {
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
