import * as z from 'zod/mini';

/**
 * The `audit` section of caretaker.config.ts. It imports nothing of the
 * project, so that functions/shared/config.ts can take it as
 * `audit: z.prefault(auditConfigSchema, {})` without an import cycle; an
 * absent section means the defaults.
 */
export const auditConfigSchema = z.strictObject({
  /** When every configured cluster is audited; null turns the scheduled audit off. */
  schedule: z._default(z.nullable(z.string().check(z.regex(/^(rate|cron)\(.+\)$/, 'expected rate(...) or cron(...)'))), 'rate(1 day)'),
  /** Also audit a service when one of its deployments completes or fails. */
  onDeployment: z._default(z.boolean(), true),
});

export type AuditConfig = z.output<typeof auditConfigSchema>;
