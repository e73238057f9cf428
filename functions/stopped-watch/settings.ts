import * as z from 'zod/mini';
import { severitySchema, type CaretakerConfig } from '../shared/config.ts';

/** What infra puts in STOPPED_WATCH_CONFIG, the stopped-watch slice of caretaker.config.ts. */
export const stoppedWatchEnvSchema = z.object({
  clusters: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  alerts: z.object({
    topicArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'expected an SNS topic ARN'))),
    minSeverity: severitySchema,
    windowMinutes: z.int().check(z.gte(1), z.lte(1440)),
  }),
  requestCleanup: z.boolean(),
});

export type StoppedWatchSettings = z.output<typeof stoppedWatchEnvSchema>;

export function settingsFromConfig(config: CaretakerConfig): StoppedWatchSettings {
  return {
    clusters: config.clusters.map((c) => c.name),
    alerts: { topicArn: config.alerts.topicArn, minSeverity: config.alerts.minSeverity, windowMinutes: config.alerts.windowMinutes },
    requestCleanup: config.stoppedWatch.requestCleanup,
  };
}
