import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';
import type { Sim } from '../../sim/index.ts';

export const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

/** A real ECS client pointed at the simulator through its endpoint option. */
export const ecsClient = (sim: Sim, config: ECSClientConfig = {}) => new ECSClient({ endpoint: sim.endpoint, region: 'eu-west-1', credentials, ...config });
