import * as z from 'zod/mini';
import { auditConfigSchema, parseOrThrow, severitySchema, type CaretakerConfig } from '../shared/config.ts';

export type AuditConfig = z.output<typeof auditConfigSchema>;

/** What infra puts in AUDIT_CONFIG: the clusters in scope and where, and from which severity, a digest goes. */
export const auditEnvSchema = z.object({
  clusters: z.array(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'expected an ECS cluster name'))).check(z.minLength(1)),
  alerts: z.object({
    topicArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'expected an SNS topic ARN'))),
    minSeverity: severitySchema,
  }),
});

export type AuditSettings = z.output<typeof auditEnvSchema>;

export function settingsFromConfig(config: CaretakerConfig): AuditSettings {
  return { clusters: config.clusters.map((c) => c.name), alerts: { topicArn: config.alerts.topicArn, minSeverity: config.alerts.minSeverity } };
}

/**
 * The `audit` section, with its defaults. The configuration type gains the
 * section when configSchema does; until then every deployment gets the
 * defaults, and afterwards a wrong value still names `config.audit.<field>`.
 */
export function auditConfigFrom(config: CaretakerConfig): AuditConfig {
  return parseOrThrow(auditConfigSchema, (config as { audit?: unknown }).audit ?? {}, 'config.audit');
}
