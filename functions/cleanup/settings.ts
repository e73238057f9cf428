import * as z from 'zod/mini';
import { cleanupSchema, type CaretakerConfig } from '../shared/config.ts';

/**
 * What infra/functions/cleanup.ts puts in CLEANUP_CONFIG: the configured
 * clusters, the `cleanup` section as configured, and the alarm-name prefix
 * that opts a CloudWatch alarm in. The document name is a separate variable,
 * CLEANUP_DOCUMENT_NAME, because it comes from the stack ({Ref} of the document).
 */
export const cleanupEnvSchema = z.object({
  clusters: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  cleanup: cleanupSchema,
  alarmNamePrefix: z.string().check(z.minLength(1)),
});

export type CleanupEnv = z.output<typeof cleanupEnvSchema>;
export type CleanupSection = CleanupEnv['cleanup'];

export interface CleanupSettings extends CleanupEnv {
  documentName: string;
}

/** Alarms whose name starts with this trigger cleanup; any other alarm in the account is ignored. */
export const cleanupAlarmNamePrefix = (prefix: string): string => `${prefix}-cleanup`;

export const settingsFromConfig = (config: CaretakerConfig, { prefix }: { prefix: string }): CleanupEnv => ({
  clusters: config.clusters.map((c) => c.name),
  cleanup: config.cleanup,
  alarmNamePrefix: cleanupAlarmNamePrefix(prefix),
});
