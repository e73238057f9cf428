import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { defaultMaxDelaySeconds, longestGapSeconds, MAX_DELAY_CAP_SECONDS, scheduleGrammarIssue } from './schedule.ts';
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

/** A role name (IAM: 1-64 of letters, digits and +=,.@_-) or a role ARN, path included. */
const roleReference = z
  .string()
  .check(z.regex(/^([\w+=,.@-]{1,64}|arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7e]+\/)?[\w+=,.@-]{1,64})$/, 'expected an IAM role name or role ARN'));

/**
 * A resource tag as EC2, IAM and the other tagged services accept it: key 1-128 and value
 * 0-256 characters, and no key under the reserved `aws:` prefix (EC2 user guide, "Tag
 * restrictions"). The reserved prefix also matters for IAM: whether SSM fills
 * `ssm:resourceTag/aws:...` is not documented, so the cleanup tag must be one of your own.
 */
const tagKey = z.string().check(
  z.regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, 'expected 1-128 letters, digits, spaces or _.:/=+-@'),
  z.refine((key) => !key.toLowerCase().startsWith('aws:'), 'tag keys starting with "aws:" are reserved for AWS'),
);
const tagValue = z.string().check(z.regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u, 'expected 0-256 letters, digits, spaces or _.:/=+-@'));

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
    /**
     * The IAM roles RunTask hands to ECS for this job: its task definition's taskRoleArn and
     * executionRoleArn, as names or ARNs. task-lock may pass these and no other role
     * (overrides.taskRoleArn and overrides.executionRoleArn are added on their own).
     */
    passRoles: z._default(z.array(roleReference), []),
    /** `skip`: an occurrence does not start while the previous run of this job is still running. */
    overlap: z._default(z.enum(['skip', 'allow']), 'skip'),
    /** How long a run may take, PENDING time included; a run still going after that has overrun (see onOverrun). */
    maxRunSeconds: intIn(60, 14 * 24 * 3600),
    /**
     * Under overlap `skip`, what an occurrence does when the previous run is still going past maxRunSeconds:
     * `skip` starts nothing (JobOverrun metric, WARN log); `stop-previous` stops that run (StopTask) and starts;
     * `allow` starts beside it.
     */
    onOverrun: z._default(z.enum(['skip', 'stop-previous', 'allow']), 'skip'),
    /**
     * An occurrence delivered later than this after its scheduled time is refused ("too late: the next
     * occurrence is due"), so that a redrive days later never runs it. Default: one schedule period, at most 1 h.
     */
    maxDelaySeconds: z.optional(intIn(60, MAX_DELAY_CAP_SECONDS)),
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

const scheduleExpression = z.string().check(
  z.regex(/^(rate|cron)\(.+\)$/, 'expected rate(...) or cron(...)'),
  z.superRefine((expression, ctx) => {
    const issue = /^(rate|cron)\(.+\)$/.test(expression) ? scheduleGrammarIssue(expression) : undefined;
    if (issue) ctx.addIssue({ code: 'custom', input: expression, message: issue });
  }),
);
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
      for (const issue of drainTimingIssues(drain)) ctx.addIssue({ code: 'custom', input: drain, ...issue });
    }),
  );

/**
 * The drain function's Lambda timeout (infra/functions/drain.ts uses it). A
 * tick may send its heartbeats and apply a timeout as late as its last second,
 * so every timing check below allows this much on top of the tick period.
 */
export const DRAIN_FUNCTION_TIMEOUT_SECONDS = 60;

interface DrainTiming {
  heartbeatTimeoutSeconds: number;
  drainTimeoutSeconds: number;
  reconcileSchedule: string;
  standaloneTasks: { policy: string; stopAfterSeconds: number };
}

/**
 * Values that are each valid but do not work together. T is the longest gap
 * between two reconcile ticks and M the function's timeout:
 * - A heartbeat goes out at the first tick after HeartbeatTimeout/3. With
 *   HeartbeatTimeout >= 3T + M, the hook still has 2T + M left then, so one
 *   failed tick is survived by the next.
 * - The drain timeout is applied by a tick, up to T + M after it passed; that
 *   must happen before the global timeout, or the hook's DefaultResult decides
 *   instead of timeoutOutcome (ABANDON + retain would be lost).
 * - stop-after stops a task at the first check past stopAfterSeconds: at least
 *   one tick must remain before the drain timeout for that to happen.
 */
export function drainTimingIssues(drain: DrainTiming): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const gap = longestGapSeconds(drain.reconcileSchedule);
  if ('issue' in gap) {
    // The grammar check on the field has said it already.
    if (!scheduleGrammarIssue(drain.reconcileSchedule)) {
      issues.push({
        path: ['reconcileSchedule'],
        message: `the longest gap between two ticks cannot be checked: ${gap.issue}; use rate(...) or a cron that runs every day`,
      });
    }
    return issues;
  }
  const tick = gap.seconds;
  const margin = DRAIN_FUNCTION_TIMEOUT_SECONDS;
  const { heartbeatTimeoutSeconds: heartbeat, drainTimeoutSeconds: drainTimeout, standaloneTasks } = drain;
  const needed = 3 * tick + margin;
  if (heartbeat < needed) {
    issues.push({
      path: ['heartbeatTimeoutSeconds'],
      message: `${heartbeat} s is too short for a reconcile tick every ${tick} s (reconcileSchedule): it must be at least 3 × the tick period + ${margin} s (the drain function's timeout) = ${needed} s, so that one failed tick does not expire the hook`,
    });
  }
  const global = lifecycleGlobalTimeoutSeconds(heartbeat);
  const latest = global - tick - margin;
  // Below the shortest drain timeout the heartbeat issue above is the one to fix.
  if (drainTimeout > latest && latest >= 60) {
    issues.push({
      path: ['drainTimeoutSeconds'],
      message: `${drainTimeout} s ends too close to the lifecycle action's global timeout, min(48 h, 100 × heartbeatTimeoutSeconds) = ${global} s: the tick that applies it may come ${tick} s (reconcileSchedule) + ${margin} s later, so it must be at most ${latest} s`,
    });
  }
  if (standaloneTasks.policy === 'stop-after' && standaloneTasks.stopAfterSeconds + tick >= drainTimeout) {
    issues.push({
      path: ['standaloneTasks', 'stopAfterSeconds'],
      message: `${standaloneTasks.stopAfterSeconds} s leaves no tick before the drain timeout (${drainTimeout} s) to stop the task: it must be below drainTimeoutSeconds - ${tick} s (reconcileSchedule) = ${drainTimeout - tick} s`,
    });
  }
  return issues;
}

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
  /**
   * The function may run its document only on instances that carry this tag (IAM condition
   * `ssm:resourceTag/<key>`): set it on your container instances, e.g. as an ASG tag propagated at launch.
   */
  instanceTag: z._default(z.strictObject({ key: tagKey, value: tagValue }), { key: 'ecs-caretaker:cleanup', value: 'true' }),
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

/** The values CloudWatch Logs accepts for a log group's retention (CloudWatch Logs API reference, PutRetentionPolicy retentionInDays). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** How the stack itself is deployed: what a landing zone's service control policies and reviewers ask for. */
export const stackSchema = z.strictObject({
  /** A managed policy ARN set as the permissions boundary of every role the stack creates. */
  permissionsBoundary: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/, 'expected an IAM policy ARN'))),
  /** The path of every role the stack creates: "/" or "/a/b/" (IAM API reference, CreateRole Path). */
  rolePath: z._default(z.string().check(z.regex(/^(\/|\/[\x21-\x7e]{1,510}\/)$/, 'expected "/" or a path such as "/ecs-caretaker/"')), '/'),
  /** Tags on every resource of the stack that can carry tags; 50 at most, the limit of most services (IAM, Lambda, SQS). */
  tags: z._default(
    z.record(z.string(), tagValue).check(
      z.superRefine((tags, ctx) => {
        // Checked here rather than as the record's key schema, whose failure only says "Invalid key in record".
        for (const key of Object.keys(tags)) {
          const result = tagKey.safeParse(key);
          if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', input: key, path: [key], message: issue.message });
        }
        if (Object.keys(tags).length > 50) ctx.addIssue({ code: 'custom', input: tags, message: 'at most 50 tags' });
      }),
    ),
    {},
  ),
  /** Retention of the functions' log groups and of the Run Command output log group. */
  logRetentionDays: z._default(
    z.number().check(z.refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), `expected one of ${LOG_RETENTION_DAYS.join(', ')}`)),
    30,
  ),
  /** Point-in-time recovery of the state table (35 days of restorable history, billed per GB). */
  pointInTimeRecovery: z._default(z.boolean(), true),
  /**
   * A fixed name for the state table, to keep the table of a stack deployed before names
   * came from CloudFormation (`<service>-<stage>-state`). Without it CloudFormation names the
   * table, and removing then redeploying the stack works. 3-255 of [a-zA-Z0-9_.-] (DynamoDB naming rules).
   */
  tableName: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'expected 3-255 letters, digits, "_", "." or "-"'))),
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
    stack: z.prefault(stackSchema, {}),
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
      // An occurrence lock must outlive RunTask's clientToken (kept 24 h, ECS API reference, "Ensuring
      // idempotency") plus the latest an occurrence may still start: otherwise a late delivery finds
      // neither the lock nor the token, and starts the occurrence a second time.
      const latest = Math.max(0, ...config.jobs.map(maxDelaySecondsOf));
      const needed = Math.ceil((CLIENT_TOKEN_WINDOW_SECONDS + latest) / 3600);
      if (config.jobs.length && config.taskLock.lockRetentionHours < needed) {
        ctx.addIssue({
          code: 'custom',
          input: config.taskLock.lockRetentionHours,
          path: ['taskLock', 'lockRetentionHours'],
          message: `must be at least ${needed} h: RunTask's 24 h clientToken window plus the longest maxDelaySeconds of the jobs (${latest} s)`,
        });
      }
    }),
  );

/** How long RunTask remembers a clientToken (ECS API reference, "Ensuring idempotency": 24 hours). */
export const CLIENT_TOKEN_WINDOW_SECONDS = 24 * 3600;

/** The configured maxDelaySeconds, or one schedule period, at most one hour. */
export function maxDelaySecondsOf(job: Pick<Job, 'maxDelaySeconds' | 'schedule'>): number {
  return job.maxDelaySeconds ?? defaultMaxDelaySeconds(job.schedule.expression);
}

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
