import * as z from 'zod/mini';
import { jobSchema, type CaretakerConfig, type Job } from '../shared/config.ts';

/** What infra puts in TASK_LOCK_CONFIG. */
export const taskLockEnvSchema = z.object({
  jobs: z.array(jobSchema),
  /** job name -> the rule or schedule name that triggers it */
  scheduleNames: z.record(z.string(), z.string()),
  lockRetentionHours: z.int().check(z.positive()),
});

export type TaskLockSettings = z.output<typeof taskLockEnvSchema>;

/** The name of the EventBridge rule or schedule that triggers `job`: the configured one, or `<service>-<stage>-<job>`. */
export const scheduleNameFor = (config: CaretakerConfig, stage: string, job: Job): string =>
  job.schedule.name ?? `${config.service}-${stage}-${job.name}`.slice(0, 64);

export const settingsFromConfig = (config: CaretakerConfig, { stage }: { stage: string }): TaskLockSettings => ({
  jobs: config.jobs,
  scheduleNames: Object.fromEntries(config.jobs.map((job) => [job.name, scheduleNameFor(config, stage, job)])),
  lockRetentionHours: config.taskLock.lockRetentionHours,
});
