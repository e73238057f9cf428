import * as z from 'zod/mini';
import { drainSchema, type CaretakerConfig } from '../shared/config.ts';

/** What infra puts in DRAIN_CONFIG: the clusters with their ASGs, and the `drain` section as configured. */
export const drainEnvSchema = z.object({
  clusters: z.array(z.object({ name: z.string().check(z.minLength(1)), asgs: z.array(z.string().check(z.minLength(1))) })).check(z.minLength(1)),
  drain: drainSchema,
});

export type DrainSettings = z.output<typeof drainEnvSchema>;

export const settingsFromConfig = (config: CaretakerConfig): DrainSettings => ({
  clusters: config.clusters.map((c) => ({ name: c.name, asgs: c.asgs })),
  drain: config.drain,
});
