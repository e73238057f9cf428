/**
 * Schedules and subscriptions that osls would generate without a dead-letter
 * queue or a retry policy (its `schedule` and `sns` events have neither), so
 * they are written here as plain CloudFormation. They keep the logical ids
 * osls gave them, so a stack packaged before updates them in place: a new
 * logical id would create a rule or schedule of the same fixed name next to
 * the old one, then delete the old one, and with it the rule (PutRule is an
 * upsert) or fail (CreateSchedule refuses an existing name).
 */
import { functionKey, logicalIdStem, type FunctionId } from './functions/ids.ts';
import { dlqLogicalId, lambdaLogicalId, type Resources } from './resources.ts';

/**
 * The bounds of both retry policies (AWS::Events::Rule Target RetryPolicy and
 * AWS::Scheduler::Schedule RetryPolicy, CloudFormation template reference):
 * MaximumEventAgeInSeconds 60-86400, MaximumRetryAttempts 0-185.
 */
export const EVENT_AGE_MIN_SECONDS = 60;
export const EVENT_AGE_MAX_SECONDS = 86_400;
export const RETRY_ATTEMPTS_MAX = 185;

/**
 * An occurrence may start at most this late. Past the next occurrence (or past
 * an hour for a daily job) a late start does more harm than a skip: it runs
 * next to, or just before, the next one. Such an occurrence goes to the DLQ,
 * where the operator sees it, instead of running; task-lock refuses it too if
 * it is redriven later still.
 */
export const OCCURRENCE_MAX_AGE_SECONDS = 3600;

export interface RetryPolicy {
  maximumEventAgeInSeconds: number;
  maximumRetryAttempts: number;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/**
 * The retry policy of a job occurrence: retries stop once the next occurrence
 * is due, and never later than OCCURRENCE_MAX_AGE_SECONDS. cron(...) and
 * at(...) have no fixed period, so they get the hour.
 */
export function occurrenceRetryPolicy(expression: string): RetryPolicy {
  const match = RATE.exec(expression);
  const period = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : OCCURRENCE_MAX_AGE_SECONDS;
  const age = Math.max(EVENT_AGE_MIN_SECONDS, Math.min(period, OCCURRENCE_MAX_AGE_SECONDS));
  // Backoff is exponential, so the age, not the count, is what ends the retries; the count only has to be large enough.
  return { maximumEventAgeInSeconds: age, maximumRetryAttempts: Math.min(RETRY_ATTEMPTS_MAX, 20) };
}

function checkRetryPolicy(where: string, policy: RetryPolicy): void {
  const { maximumEventAgeInSeconds: age, maximumRetryAttempts: attempts } = policy;
  if (!Number.isInteger(age) || age < EVENT_AGE_MIN_SECONDS || age > EVENT_AGE_MAX_SECONDS)
    throw new Error(`${where}: MaximumEventAgeInSeconds ${age} is outside ${EVENT_AGE_MIN_SECONDS}-${EVENT_AGE_MAX_SECONDS}`);
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > RETRY_ATTEMPTS_MAX)
    throw new Error(`${where}: MaximumRetryAttempts ${attempts} is outside 0-${RETRY_ATTEMPTS_MAX}`);
}

const dlqArn = (id: FunctionId) => ({ 'Fn::GetAtt': [dlqLogicalId(id), 'Arn'] });
const functionArn = (id: FunctionId) => ({ 'Fn::GetAtt': [lambdaLogicalId(id), 'Arn'] });

/** osls numbers a function's schedules from 1 in the order of its events; `index` is that number. */
export const ruleScheduleLogicalId = (id: FunctionId, index: number): string => `${logicalIdStem(id)}EventsRuleSchedule${index}`;
export const schedulerScheduleLogicalId = (id: FunctionId, index: number): string => `${logicalIdStem(id)}SchedulerSchedule${index}`;

export interface RuleScheduleOptions {
  id: FunctionId;
  index: number;
  expression: string;
  retry: RetryPolicy;
  name?: string;
  description?: string;
  /** constant input instead of the Scheduled Event */
  input?: unknown;
}

/** An EventBridge rule on a schedule, its Lambda target with retry policy and DLQ, and the permission for EventBridge to invoke. */
export function ruleSchedule(options: RuleScheduleOptions): Resources {
  const { id, index, expression, retry, name, description, input } = options;
  const rule = ruleScheduleLogicalId(id, index);
  checkRetryPolicy(rule, retry);
  return {
    [rule]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: expression,
        State: 'ENABLED',
        ...(name ? { Name: name } : {}),
        ...(description ? { Description: description.slice(0, 512) } : {}),
        Targets: [
          {
            // osls named the target after the function key; the same id keeps the target in place on update.
            Id: `${functionKey(id)}Schedule`,
            Arn: functionArn(id),
            ...(input === undefined ? {} : { Input: JSON.stringify(input) }),
            RetryPolicy: { MaximumEventAgeInSeconds: retry.maximumEventAgeInSeconds, MaximumRetryAttempts: retry.maximumRetryAttempts },
            DeadLetterConfig: { Arn: dlqArn(id) },
          },
        ],
      },
    },
    [`${logicalIdStem(id)}LambdaPermissionEventsRuleSchedule${index}`]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: functionArn(id),
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      },
    },
  };
}

export interface SchedulerScheduleOptions {
  id: FunctionId;
  index: number;
  expression: string;
  timezone: string;
  name: string;
  description?: string;
  input: unknown;
  /** the execution role; it must be allowed to invoke the function and to send to its DLQ */
  roleArn: unknown;
  retry: RetryPolicy;
}

/**
 * An EventBridge Scheduler schedule. Scheduler sends its dead letters with the
 * schedule's execution role, not as a service principal (Scheduler user guide,
 * "Configuring a dead-letter queue": the execution role needs sqs:SendMessage).
 */
export function schedulerSchedule(options: SchedulerScheduleOptions): Resources {
  const { id, index, expression, timezone, name, description, input, roleArn, retry } = options;
  const schedule = schedulerScheduleLogicalId(id, index);
  checkRetryPolicy(schedule, retry);
  return {
    [schedule]: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: name,
        ...(description ? { Description: description.slice(0, 512) } : {}),
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: timezone,
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: functionArn(id),
          RoleArn: roleArn,
          Input: JSON.stringify(input),
          RetryPolicy: { MaximumEventAgeInSeconds: retry.maximumEventAgeInSeconds, MaximumRetryAttempts: retry.maximumRetryAttempts },
          DeadLetterConfig: { Arn: dlqArn(id) },
        },
      },
    },
  };
}

/** osls's spelling of a topic in logical ids: its name, letters and digits only. */
const topicStem = (topicArn: string): string => {
  const name = topicArn.split(':').at(-1) ?? '';
  const alnum = name.replace(/[^0-9A-Za-z]/g, '');
  return `${alnum[0]?.toUpperCase() ?? ''}${alnum.slice(1)}`;
};
export const snsSubscriptionLogicalId = (id: FunctionId, topicArn: string): string => `${logicalIdStem(id)}SnsSubscription${topicStem(topicArn)}`;

/**
 * A Lambda subscription to a topic with a redrive policy: a message SNS
 * cannot deliver after its retries goes to the function's DLQ, which must let
 * sns.amazonaws.com send for this topic (dlqResources, snsTopicArns).
 */
export function snsSubscription(id: FunctionId, topicArn: string): Resources {
  const region = topicArn.split(':')[3];
  return {
    [snsSubscriptionLogicalId(id, topicArn)]: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: topicArn,
        Protocol: 'lambda',
        Endpoint: functionArn(id),
        // A topic in another region needs its region named (AWS::SNS::Subscription Region).
        ...(region ? { Region: region } : {}),
        RedrivePolicy: { deadLetterTargetArn: dlqArn(id) },
      },
    },
    [`${logicalIdStem(id)}LambdaPermission${topicStem(topicArn)}SNS`]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: functionArn(id),
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: topicArn,
      },
    },
  };
}

/** The topics of the subscriptions among `resources` that redrive to a DLQ: its queue policy must let them send. */
export function redrivingTopics(resources: Resources = {}): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.RedrivePolicy)
    .map((r) => r.Properties!.TopicArn as string);
}

/** The roles among `resources` that Scheduler schedules run as: they send the schedules' dead letters. */
export function schedulerRoles(resources: Resources = {}): unknown[] {
  const roles = Object.values(resources)
    .filter((r) => r.Type === 'AWS::Scheduler::Schedule')
    .map((r) => (r.Properties?.Target as { RoleArn?: unknown } | undefined)?.RoleArn)
    .filter((role) => role !== undefined);
  return [...new Map(roles.map((role) => [JSON.stringify(role), role])).values()];
}
