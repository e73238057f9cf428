import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { SEVERITIES } from './severity.ts';

// zod/mini keeps the handler bundles small (classic zod adds ~440 KB); the
// English locale restores messages such as "expected string, received number".
z.config(en());

/**
 * The schema of caretaker.config.ts. It lives here, not in infra/, because the
 * handlers validate their slice of it again at cold start (it reaches them as
 * an environment variable) and must fail with the same field names.
 */

const name = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'expected 1-40 letters, digits, "-" or "_", starting with a letter or digit'));

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const intIn = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));

export const scheduleSchema = z.strictObject({
  /** rate(...) or cron(...) as EventBridge accepts them; at(...) only with the Scheduler. */
  expression: z.string().check(z.regex(/^(rate|cron|at)\(.+\)$/, 'expected rate(...), cron(...) or at(...)')),
  timezone: z._default(z.string().check(z.refine(isTimeZone, 'expected an IANA time zone such as "Europe/Paris"')), 'UTC'),
  /** `scheduler` = EventBridge Scheduler (time zones); `rule` = classic EventBridge rule (UTC only). */
  method: z._default(z.enum(['scheduler', 'rule']), 'scheduler'),
  /** Name of the EventBridge rule or schedule; by default `<service>-<stage>-<job>`. */
  name: z.optional(z.string().check(z.regex(/^[.A-Za-z0-9_-]{1,64}$/, 'expected 1-64 characters of letters, digits, ".", "-" or "_"'))),
});

const capacityProviderItem = z.strictObject({
  capacityProvider: z.string().check(z.minLength(1)),
  weight: z.optional(intIn(0, 1000)),
  base: z.optional(intIn(0, 100000)),
});

const networkConfiguration = z.strictObject({
  awsvpcConfiguration: z.strictObject({
    subnets: z.array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'expected a subnet id "subnet-..."'))).check(z.minLength(1)),
    securityGroups: z.optional(z.array(z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'expected a security group id "sg-..."')))),
    assignPublicIp: z.optional(z.enum(['ENABLED', 'DISABLED'])),
  }),
});

export const jobSchema = z
  .strictObject({
    name,
    cluster: z.string().check(z.minLength(1)),
    /** family, family:revision or a full task definition ARN */
    taskDefinition: z.string().check(z.minLength(1)),
    schedule: scheduleSchema,
    launchType: z.optional(z.enum(['EC2', 'FARGATE', 'EXTERNAL'])),
    capacityProviderStrategy: z.optional(z.array(capacityProviderItem).check(z.minLength(1), z.maxLength(20))),
    networkConfiguration: z.optional(networkConfiguration),
    /** passed to RunTask as is (containerOverrides, cpu, memory, taskRoleArn, ...) */
    overrides: z.optional(z.record(z.string(), z.unknown())),
    /** `skip`: an occurrence does not start while the previous run of this job is still running. */
    overlap: z._default(z.enum(['skip', 'allow']), 'skip'),
    /** The lease: after this long a run is presumed hung or its STOPPED event lost, and no longer blocks the next one. */
    maxRunSeconds: intIn(60, 14 * 24 * 3600),
  })
  .check(
    z.superRefine((job, ctx) => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: job });
      // RunTask rejects a request that has both (ECS API reference, RunTask: capacityProviderStrategy).
      if (job.launchType && job.capacityProviderStrategy) issue(['capacityProviderStrategy'], 'use either launchType or capacityProviderStrategy, not both');
      if (job.launchType === 'FARGATE' && !job.networkConfiguration)
        issue(['networkConfiguration'], 'required when launchType is FARGATE (awsvpc network mode)');
      if (job.schedule.method === 'rule' && job.schedule.timezone !== 'UTC')
        issue(['schedule', 'timezone'], 'EventBridge rules run in UTC only; use method "scheduler" for a time zone');
      if (job.schedule.method === 'rule' && job.schedule.expression.startsWith('at('))
        issue(['schedule', 'expression'], 'at(...) one-time schedules need method "scheduler"');
    }),
  );

const arn = (service: string) => z.string().check(z.regex(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`), `expected an ${service} ARN`));

export const severitySchema = z.enum(SEVERITIES);
/** Auto Scaling's limit on a lifecycle action: min(48 h, 100 × HeartbeatTimeout) (EC2 Auto Scaling user guide, lifecycle hooks). */
export const lifecycleGlobalTimeoutSeconds = (heartbeatTimeoutSeconds: number): number => Math.min(48 * 3600, 100 * heartbeatTimeoutSeconds);

const scheduleExpression = z.string().check(z.regex(/^(rate|cron)\(.+\)$/, 'expected rate(...) or cron(...)'));
const percentOrCount = z.string().check(z.regex(/^([1-9]\d{0,2}%|[1-9]\d*)$/, 'expected a count such as "5" or a percentage such as "10%"'));

export const drainSchema = z
  .strictObject({
    /** Name of the termination lifecycle hook ecs-caretaker creates on each configured ASG. */
    hookName: z._default(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,255}$/, 'expected a lifecycle hook name')), 'ecs-caretaker-drain'),
    /** The hook's HeartbeatTimeout; ecs-caretaker sends a heartbeat every third of it (30-7200 s per the PutLifecycleHook API). */
    heartbeatTimeoutSeconds: z._default(intIn(30, 7200), 300),
    /** Give up waiting after this long and apply timeoutOutcome. */
    drainTimeoutSeconds: z._default(intIn(60, 48 * 3600), 3600),
    timeoutOutcome: z._default(z.enum(['CONTINUE', 'ABANDON']), 'CONTINUE'),
    standaloneTasks: z.prefault(
      z.strictObject({
        policy: z._default(z.enum(['wait', 'stop-after', 'ignore']), 'wait'),
        stopAfterSeconds: z._default(intIn(0, 48 * 3600), 600),
      }),
      {},
    ),
    reconcileSchedule: z._default(scheduleExpression, 'rate(1 minute)'),
    /** Set an instance DRAINING as soon as its Spot interruption warning arrives. */
    spotInterruption: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((drain, ctx) => {
      const limit = lifecycleGlobalTimeoutSeconds(drain.heartbeatTimeoutSeconds);
      if (drain.drainTimeoutSeconds >= limit) {
        ctx.addIssue({
          code: 'custom',
          input: drain.drainTimeoutSeconds,
          path: ['drainTimeoutSeconds'],
          message: `must be below the lifecycle action's global timeout, min(48 h, 100 × heartbeatTimeoutSeconds) = ${limit} s`,
        });
      }
    }),
  );

/**
 * The shortest cleanup step timeout the configuration accepts: the script's own
 * deadline is 30 s shorter (functions/cleanup/deadline.ts), which leaves it 90
 * seconds, more than one docker call's own 60-second cap, so that a single slow
 * call ends in a report that says so instead of using up the run.
 */
export const CLEANUP_MIN_TIMEOUT_SECONDS = 120;

export const cleanupSchema = z.strictObject({
  /** Fleet-wide cleanup schedule per cluster; null disables it (alarms and requests still trigger cleanup). */
  schedule: z._default(z.nullable(scheduleExpression), 'rate(1 day)'),
  dryRun: z._default(z.boolean(), false),
  /** Containers that finished more recently than this are kept, for debugging. */
  graceSeconds: z._default(intIn(0, 30 * 86400), 3600),
  fstrim: z._default(z.enum(['auto', 'off', 'force']), 'auto'),
  /** ecs: only containers with the ECS agent's labels may be removed; all: any exited or dead container. */
  scope: z._default(z.enum(['ecs', 'all']), 'ecs'),
  /** The command fails on an instance whose Docker disk is still below this much free space. */
  minFreePercent: z._default(intIn(0, 99), 10),
  maxConcurrency: z._default(percentOrCount, '10%'),
  maxErrors: z._default(percentOrCount, '10%'),
  /** Run Command execution timeout for the script (see CLEANUP_MIN_TIMEOUT_SECONDS). */
  timeoutSeconds: z._default(intIn(CLEANUP_MIN_TIMEOUT_SECONDS, 3600), 600),
  /** Triggers for the same instance within this window send one command. */
  dedupSeconds: z._default(intIn(0, 3600), 300),
});

export const stoppedWatchSchema = z.strictObject({
  /** Send "Cleanup Requested" for image pulls that fail on a full disk or thin pool. */
  requestCleanup: z._default(z.boolean(), true),
  /**
   * An SNS topic that relays ECS events (e.g. from other accounts or regions):
   * the stack subscribes the function to it and lets SNS invoke it. Events of
   * other clusters or detail-types arriving there are logged at WARN.
   */
  inboundTopicArn: z.optional(arn('sns')),
});

/** The `audit` section; an absent section means the defaults. */
export const auditConfigSchema = z.strictObject({
  /** When every configured cluster is audited; null turns the scheduled audit off. */
  schedule: z._default(z.nullable(scheduleExpression), 'rate(1 day)'),
  /** Also audit a service when one of its deployments completes or fails. */
  onDeployment: z._default(z.boolean(), true),
});

export const configSchema = z
  .strictObject({
    /** Prefix of every resource name. */
    service: z._default(name, 'ecs-caretaker'),
    clusters: z
      .array(
        z.strictObject({
          name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'expected an ECS cluster name')),
          /** Auto Scaling groups whose instances belong to this cluster. */
          asgs: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(255))), []),
        }),
      )
      .check(z.minLength(1, 'list at least one cluster')),
    alerts: z.prefault(
      z.strictObject({
        topicArn: z.optional(arn('sns')),
        /** Where the stack's own alarms (failures, dead letters) go; alerts.topicArn when absent. */
        opsTopicArn: z.optional(arn('sns')),
        minSeverity: z._default(severitySchema, 'high'),
        windowMinutes: z._default(intIn(1, 1440), 10),
      }),
      {},
    ),
    jobs: z._default(z.array(jobSchema), []),
    // prefault: an absent section is parsed as {}, so that its fields get their own defaults.
    drain: z.prefault(drainSchema, {}),
    cleanup: z.prefault(cleanupSchema, {}),
    stoppedWatch: z.prefault(stoppedWatchSchema, {}),
    audit: z.prefault(auditConfigSchema, {}),
    taskLock: z.prefault(
      z.strictObject({
        /** How long an occurrence lock is kept, so that a delivery days late still starts nothing. */
        lockRetentionHours: z._default(intIn(1, 24 * 90), 7 * 24),
      }),
      {},
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const clusters = new Set(config.clusters.map((c) => c.name));
      const seen = new Set<string>();
      config.jobs.forEach((job, i) => {
        if (!clusters.has(job.cluster)) {
          ctx.addIssue({
            code: 'custom',
            input: job.cluster,
            path: ['jobs', i, 'cluster'],
            message: `"${job.cluster}" is not one of the configured clusters (${[...clusters].join(', ')})`,
          });
        }
        if (seen.has(job.name)) ctx.addIssue({ code: 'custom', input: job.name, path: ['jobs', i, 'name'], message: `duplicate job name "${job.name}"` });
        seen.add(job.name);
      });
    }),
  );

export type CaretakerConfigInput = z.input<typeof configSchema>;
export type CaretakerConfig = z.output<typeof configSchema>;
export type Job = z.output<typeof jobSchema>;

/** Thrown for any invalid configuration; the message names every bad field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: string[];
  constructor(message: string, issues: string[]) {
    super(message);
    this.issues = issues;
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/**
 * Parses an event or payload with `schema`; on failure throws what `fail` makes
 * of its issues, on one line: `detail.taskArn: Invalid input; time: ...`.
 */
export function parseOrFail<S extends z.ZodMiniType>(schema: S, payload: unknown, fail: (problems: string) => Error): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw fail(result.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; '));
}

/** Parses with `schema` and throws a ConfigError whose lines read `<where>.<field>: <what was expected>`. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return `${where}${path ? (path.startsWith('[') ? path : `.${path}`) : ''}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid ${where}:\n  ${issues.join('\n  ')}`, issues);
}

export function parseConfig(value: unknown): CaretakerConfig {
  return parseOrThrow(configSchema, value, 'config');
}

/** Identity helper so that caretaker.config.ts is type-checked while it is edited. */
export function defineConfig(config: CaretakerConfigInput): CaretakerConfigInput {
  return config;
}
