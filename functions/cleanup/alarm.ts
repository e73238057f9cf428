import { InvalidCleanupInputError } from './errors.ts';

/**
 * Which instances a CloudWatch alarm is about, read from its own
 * configuration. Both ways an alarm reaches the function carry the same
 * object: the EventBridge "CloudWatch Alarm State Change" in `detail`, a
 * Lambda alarm action in `alarmData` (CloudWatch user guide, "Using Amazon
 * CloudWatch alarms", Lambda alarm actions).
 *
 * Every metric of the alarm is looked through, so that a metric-math or
 * anomaly-detection alarm counts as well as a single-metric one: the
 * expression rows have no dimensions, the metricStat rows do.
 * - `InstanceId` (AWS/EC2, the CloudWatch agent) or `EC2InstanceId` (ECS
 *   Container Insights) names instances: only those are cleaned, after
 *   checking that they are ACTIVE container instances and online in SSM. A
 *   math expression over several instances cannot say which one breached, so
 *   all of them are cleaned.
 * - Otherwise `ClusterName` names clusters: their whole fleet is cleaned.
 * - A composite alarm has no metrics at all (only an alarmRule over other
 *   alarms): it is refused with a message that says to subscribe its child
 *   alarm instead, rather than guessing from the children's names.
 */

export const INSTANCE_DIMENSIONS = ['InstanceId', 'EC2InstanceId'] as const;
export const CLUSTER_DIMENSION = 'ClusterName';

export interface AlarmInfo {
  alarmName: string;
  alarmArn?: string;
  state: string;
  /** Set only when the alarm is in ALARM and its metrics were read. */
  instanceIds: string[];
  clusters: string[];
}

const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const fail = (message: string): never => {
  throw new InvalidCleanupInputError(`Invalid CloudWatch alarm: ${message}`);
};

/**
 * Reads the alarm under `root` ("detail" or "alarmData") of `payload`.
 * Throws an InvalidCleanupInputError naming the field for anything malformed.
 */
export function readAlarm(payload: Record<string, unknown>, root: 'detail' | 'alarmData', alarmArn: string | undefined): AlarmInfo {
  const data = payload[root];
  if (!isObject(data)) return fail(`${root}: expected an object`);
  const alarmName = data.alarmName;
  if (typeof alarmName !== 'string' || alarmName.length === 0) return fail(`${root}.alarmName: expected the alarm name`);
  const state = isObject(data.state) ? data.state.value : undefined;
  if (typeof state !== 'string' || state.length === 0) return fail(`${root}.state.value: expected ALARM, OK or INSUFFICIENT_DATA`);
  const info: AlarmInfo = { alarmName, alarmArn, state, instanceIds: [], clusters: [] };
  if (state !== 'ALARM') return info;

  const configuration = data.configuration;
  if (!isObject(configuration)) return fail(`${root}.configuration: expected the alarm configuration`);
  const metrics = configuration.metrics;
  if (metrics === undefined && typeof configuration.alarmRule === 'string') {
    return fail(
      `${root}.configuration.metrics: alarm "${alarmName}" is a composite alarm (alarmRule ${JSON.stringify(configuration.alarmRule)}) and names no metric, hence no instance or cluster; have its child disk alarm trigger cleanup instead`,
    );
  }
  if (!Array.isArray(metrics) || metrics.length === 0) return fail(`${root}.configuration.metrics: expected a non-empty list of metrics`);

  const instances = new Set<string>();
  const clusters = new Set<string>();
  for (const [i, metric] of metrics.entries()) {
    const at = `${root}.configuration.metrics[${i}]`;
    if (!isObject(metric)) fail(`${at}: expected an object`);
    if (metric.metricStat === undefined) continue; // an expression row
    const dimensions = isObject(metric.metricStat) && isObject(metric.metricStat.metric) ? metric.metricStat.metric.dimensions : undefined;
    if (dimensions === undefined) continue;
    if (!isObject(dimensions)) fail(`${at}.metricStat.metric.dimensions: expected an object of dimension names to values`);
    for (const name of INSTANCE_DIMENSIONS) {
      const value = dimensions[name];
      if (value === undefined) continue;
      if (typeof value !== 'string' || !EC2_INSTANCE_ID.test(value))
        fail(`${at}.metricStat.metric.dimensions.${name}: expected an EC2 instance id "i-...", got ${JSON.stringify(value)}`);
      instances.add(value);
    }
    const cluster = dimensions[CLUSTER_DIMENSION];
    if (cluster !== undefined) {
      if (typeof cluster !== 'string' || cluster.length === 0) fail(`${at}.metricStat.metric.dimensions.${CLUSTER_DIMENSION}: expected a cluster name`);
      clusters.add(cluster);
    }
  }
  if (instances.size === 0 && clusters.size === 0) {
    return fail(
      `${root}.configuration.metrics[].metricStat.metric.dimensions: alarm "${alarmName}" has no ${INSTANCE_DIMENSIONS.join(', ')} or ${CLUSTER_DIMENSION} dimension, so cleanup cannot tell which instances it is about`,
    );
  }
  return { ...info, instanceIds: [...instances], clusters: [...clusters] };
}
