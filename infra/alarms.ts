/**
 * One alarm per failure metric of each deployed function (the metrics marked
 * `alarm` in functions/shared/metric-names.ts), one on each function's Lambda
 * Errors (a crash at init or a timeout emits no metric of ours), all sent to
 * the ops topic.
 */
import { METRICS, METRICS_NAMESPACE, type Emitter, type MetricName } from '../functions/shared/metric-names.ts';
import { functionKey, logicalIdStem, type FunctionId } from './functions/ids.ts';
import { lambdaLogicalId, type Resources } from './resources.ts';

/**
 * Every stack alarm is named `<prefix>-ops-...`. Never `<prefix>-cleanup...`:
 * an alarm with that prefix going to ALARM starts a cleanup run
 * (functions/cleanup/events.ts alarmPattern).
 */
export const opsAlarmName = (prefix: string, what: string): string => `${prefix}-ops-${what}`.slice(0, 255);

/** The alarm period: failures are rare events, so any one of them in five minutes is worth a look. */
export const ALARM_PERIOD_SECONDS = 300;

/**
 * A Metrics Insights query over one metric of one function. SCHEMA(...) names
 * the metric's whole dimension set, `service` included (Powertools adds it to
 * every metric), so that a value published in two dimension sets is counted
 * once (CloudWatch user guide, "Metrics Insights query components and syntax").
 */
export function metricQuery(name: MetricName, emitter: Emitter, stat: 'Sum' | 'Average' | 'Maximum' = 'Sum'): string {
  const schema = [`"${METRICS_NAMESPACE}"`, ...emitter.dimensions, 'service'].join(', ');
  return `SELECT ${stat.toUpperCase()}(${name}) FROM SCHEMA(${schema}) WHERE service = '${functionKey(emitter.fn)}'`;
}

/**
 * What an alarm reads. A metric with only the `service` dimension is a plain
 * metric alarm. One with more dimensions (Job, Cluster, ClusterName) is read
 * with a Metrics Insights query summing over them, written as a metric math
 * expression that returns one time series (CloudWatch user guide, "Create a
 * CloudWatch alarm based on a Metrics Insights query"); such alarms are kept
 * few because a region holds a limited number of them ("Metrics Insights
 * quotas": 200 per region).
 */
function alarmMetric(name: MetricName, emitter: Emitter): Record<string, unknown> {
  if (emitter.dimensions.length === 0) {
    return {
      Namespace: METRICS_NAMESPACE,
      MetricName: name,
      Dimensions: [{ Name: 'service', Value: functionKey(emitter.fn) }],
      Statistic: 'Sum',
      Period: ALARM_PERIOD_SECONDS,
    };
  }
  return { Metrics: [{ Id: 'q', Expression: metricQuery(name, emitter), Period: ALARM_PERIOD_SECONDS, ReturnData: true }] };
}

const alarmActions = (topicArn: string | undefined) => (topicArn ? { AlarmActions: [topicArn], OKActions: [topicArn] } : {});

export interface AlarmOptions {
  /** the functions this stack deploys */
  deployed: readonly FunctionId[];
  prefix: string;
  topicArn?: string;
}

export function alarmResources({ deployed, prefix, topicArn }: AlarmOptions): Resources {
  const resources: Resources = {};
  for (const [name, spec] of Object.entries(METRICS) as Array<[MetricName, (typeof METRICS)[MetricName]]>) {
    if (!('alarm' in spec)) continue;
    for (const emitter of spec.emitters) {
      if (!deployed.includes(emitter.fn)) continue;
      resources[`${logicalIdStem(emitter.fn)}${name}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: opsAlarmName(prefix, `${functionKey(emitter.fn)}-${name}`),
          AlarmDescription: spec.alarm,
          ...alarmMetric(name, emitter),
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          ...alarmActions(topicArn),
        },
      };
    }
  }
  for (const fn of deployed) {
    resources[`${logicalIdStem(fn)}LambdaErrorsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: opsAlarmName(prefix, `${functionKey(fn)}-LambdaErrors`),
        AlarmDescription: `${functionKey(fn)} invocations failed (errors, timeouts, crashes before our code ran). Lambda retries them, then parks them in the DLQ.`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaLogicalId(fn) } }],
        Statistic: 'Sum',
        Period: ALARM_PERIOD_SECONDS,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        ...alarmActions(topicArn),
      },
    };
  }
  return resources;
}
