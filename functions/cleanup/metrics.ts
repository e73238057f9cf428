import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '../shared/powertools.ts';
import type { MetricName } from '../shared/metric-names.ts';

/**
 * A batch of values with their dimension sets, built by pure code and
 * published at once as one EMF record. Several dimension sets on one record
 * let a value count both per cluster and per instance without publishing it twice.
 */
export interface MetricRecord {
  dimensionSets: Array<Record<string, string>>;
  values: Array<{ name: MetricName; unit: 'Count' | 'Bytes'; value: number }>;
  /** High-cardinality context (command id, reason): searchable in the logs, not a dimension. */
  metadata?: Record<string, string>;
}

const UNITS = { Count: MetricUnit.Count, Bytes: MetricUnit.Bytes } as const;

/** Puts `record` on `metrics`, ready to be serialized as one EMF line. */
export function stage(metrics: Metrics, record: MetricRecord): void {
  for (const set of record.dimensionSets) metrics.addDimensions(set);
  for (const [key, value] of Object.entries(record.metadata ?? {})) metrics.addMetadata(key, value);
  for (const { name, unit, value } of record.values) metrics.addMetric(name, UNITS[unit], value);
}

/** Publishes `record` now, on the function's Metrics instance, leaving nothing behind for the next record. */
export function emit(metrics: Metrics, record: MetricRecord): void {
  if (record.values.length === 0) return;
  stage(metrics, record);
  metrics.publishStoredMetrics();
}
