/**
 * The demo's deployment: one caretaker configuration, validated as
 * `npm run package` validates caretaker.config.ts, and turned into each
 * function's environment, rules, schedules and resources by the same
 * infra/functions code that serverless.ts uses. The demo wires exactly that.
 */
import { parseConfig, type CaretakerConfig } from '../functions/shared/config.ts';
import { checkDeployable } from '../infra/config.ts';
import { lambdaEnvironment as builtEnvironment } from '../infra/functions/environment.ts';
import { functionKey, functionName as deployedName, type FunctionId } from '../infra/functions/ids.ts';
import { functionSpecs } from '../infra/functions/index.ts';
import { deployContext, type FunctionSpec } from '../infra/functions/types.ts';

export const STAGE = 'demo';
export const CLUSTER = 'demo';
export const ASG = 'demo-asg';
// The simulator's own region and account, so that ARNs in the configuration and in the world agree.
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

export const demoConfig: CaretakerConfig = checkDeployable(
  parseConfig({
    service: 'ecs-caretaker',
    clusters: [{ name: CLUSTER, asgs: [ASG] }],
    alerts: { topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ecs-caretaker-demo-alerts`, minSeverity: 'high', windowMinutes: 10 },
    jobs: [
      {
        name: 'nightly-report',
        cluster: CLUSTER,
        taskDefinition: 'nightly-report',
        launchType: 'EC2',
        schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Paris' },
        maxRunSeconds: 3600,
      },
      {
        name: 'sync-inventory',
        cluster: CLUSTER,
        taskDefinition: 'sync-inventory',
        launchType: 'EC2',
        schedule: { expression: 'rate(15 minutes)' },
        maxRunSeconds: 3600,
      },
    ],
  }),
);

const context = deployContext(demoConfig, STAGE);
export const { prefix, tableName } = context;
const specs = functionSpecs(context);

export function specOf(id: FunctionId): FunctionSpec {
  const spec = specs.find((s) => s.id === id);
  if (!spec) throw new Error(`The demo configuration deploys no ${id} function`);
  return spec;
}

export const functionName = (id: FunctionId): string => deployedName(prefix, id);
export const timeoutSecondsOf = (id: FunctionId): number => Number(specOf(id).definition.timeout ?? 6);

/** What serverless.ts gives the function (provider environment, TABLE_NAME, service name, then its own variables). */
export const lambdaEnvironment = (id: FunctionId, runtime: Record<string, string> = {}): Record<string, string> =>
  builtEnvironment(specOf(id), tableName, runtime);

export interface Rule {
  name: string;
  pattern: unknown;
}

/** The function's EventBridge rules with a pattern. */
export function rulesOf(id: FunctionId): Rule[] {
  return (specOf(id).definition.events ?? []).flatMap((event, i) => {
    const pattern = (event as { eventBridge?: { pattern?: unknown } }).eventBridge?.pattern;
    return pattern ? [{ name: `${functionKey(id)}-rule-${i}`, pattern }] : [];
  });
}

export interface Schedule {
  name: string;
  expression: string;
  /** Period of a rate(...) expression; undefined for cron(...) and at(...), which a scenario fires itself. */
  everyMs?: number;
  /** The rule's or Scheduler's input; undefined means the EventBridge "Scheduled Event". */
  input?: Record<string, unknown>;
  method: 'rule' | 'scheduler';
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : undefined;
}

/** Both osls shapes, `eventBridge.schedule` (a rule with an optional input) and `schedule` (a rule, or a Scheduler schedule), and the schedule resources. */
export function schedulesOf(id: FunctionId): Schedule[] {
  const key = functionKey(id);
  const fromEvents = (specOf(id).definition.events ?? []).flatMap((event, i): Schedule[] => {
    const e = event as {
      eventBridge?: { schedule?: string; input?: Record<string, unknown> };
      schedule?: { rate: string[]; name?: string; method?: string; input?: Record<string, unknown> };
    };
    if (e.eventBridge?.schedule) {
      const expression = e.eventBridge.schedule;
      return [{ name: `${prefix}-${key}-schedule-${i}`, expression, everyMs: rateMs(expression), input: e.eventBridge.input, method: 'rule' }];
    }
    if (e.schedule) {
      const method = e.schedule.method === 'scheduler' ? 'scheduler' : 'rule';
      return e.schedule.rate.map((expression) => ({
        name: e.schedule!.name ?? `${prefix}-${key}-schedule-${i}`,
        expression,
        everyMs: rateMs(expression),
        input: e.schedule!.input,
        method,
      }));
    }
    return [];
  });
  return [...fromEvents, ...scheduleResourcesOf(id)];
}

/** The schedules infra/schedules.ts writes as CloudFormation resources (with their DLQ and retry policy). */
function scheduleResourcesOf(id: FunctionId): Schedule[] {
  return Object.entries(specOf(id).resources ?? {}).flatMap(([logicalId, resource]): Schedule[] => {
    const { Type: type, Properties: p } = resource as { Type: string; Properties: Record<string, any> };
    const input = (text: unknown) => (typeof text === 'string' ? (JSON.parse(text) as Record<string, unknown>) : undefined);
    if (type === 'AWS::Scheduler::Schedule') {
      return [{ name: p.Name, expression: p.ScheduleExpression, everyMs: rateMs(p.ScheduleExpression), input: input(p.Target.Input), method: 'scheduler' }];
    }
    if (type === 'AWS::Events::Rule' && p.ScheduleExpression) {
      const name = p.Name ?? `${prefix}-${logicalId}`;
      return [{ name, expression: p.ScheduleExpression, everyMs: rateMs(p.ScheduleExpression), input: input(p.Targets[0].Input), method: 'rule' }];
    }
    return [];
  });
}

/** Every resource of a type across the functions, e.g. the lifecycle hooks the drain function creates. */
export function resourcesOfType(type: string): Array<Record<string, any>> {
  return specs.flatMap((spec) => Object.values(spec.resources ?? {}).filter((r) => (r as { Type?: string }).Type === type)) as Array<Record<string, any>>;
}
