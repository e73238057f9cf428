import * as z from 'zod/mini';
import { jobSchema, type CaretakerConfig, type Job } from '../shared/config.ts';

/** What infra puts in TASK_LOCK_CONFIG. */
export const taskLockEnvSchema = z.object({
  jobs: z.array(jobSchema),
  /** job name -> the rule or schedule name that triggers it */
  scheduleNames: z.record(z.string(), z.string()),
  lockRetentionHours: z.int().check(z.positive()),
  /** The stack name, `<service>-<stage>`: two stacks sharing a cluster never touch each other's tasks. */
  deployment: z.string().check(z.minLength(1)),
});

export type TaskLockSettings = z.output<typeof taskLockEnvSchema>;

/** The CloudFormation stack osls deploys: `<service>-<stage>` (infra/functions/types.ts names resources with the same prefix). */
export const deploymentOf = (config: CaretakerConfig, stage: string): string => `${config.service}-${stage}`;

// EventBridge rule names and Scheduler schedule names are 1-64 characters (EventBridge API reference,
// PutRule: Name; Scheduler API reference, CreateSchedule: Name).
const SCHEDULE_NAME_MAX = 64;

/** The name of the EventBridge rule or schedule that triggers `job`: the configured one, or `<service>-<stage>-<job>`. */
export const scheduleNameFor = (config: CaretakerConfig, stage: string, job: Job): string =>
  job.schedule.name ?? `${config.service}-${stage}-${job.name}`.slice(0, SCHEDULE_NAME_MAX);

/**
 * Two jobs whose schedule names are equal once cut to 64 characters would
 * share one rule or schedule: one job would never run, or both would run on
 * one schedule. The stage is part of the default name, so this is judged per stage.
 */
export function scheduleNameIssues(config: CaretakerConfig, stage: string): string[] {
  const issues: string[] = [];
  const byName = new Map<string, string>();
  config.jobs.forEach((job, i) => {
    const name = scheduleNameFor(config, stage, job);
    const other = byName.get(name);
    if (other !== undefined) {
      issues.push(
        `config.jobs[${i}].schedule.name: job "${job.name}" would get the schedule name "${name}" of job "${other}" in stage "${stage}"` +
          (job.schedule.name ? '' : ` (<service>-<stage>-<job> cut to ${SCHEDULE_NAME_MAX} characters)`) +
          '; set a distinct schedule.name',
      );
    }
    byName.set(name, job.name);
  });
  return issues;
}

export const settingsFromConfig = (config: CaretakerConfig, { stage }: { stage: string }): TaskLockSettings => ({
  jobs: config.jobs,
  scheduleNames: Object.fromEntries(config.jobs.map((job) => [job.name, scheduleNameFor(config, stage, job)])),
  lockRetentionHours: config.taskLock.lockRetentionHours,
  deployment: deploymentOf(config, stage),
});
