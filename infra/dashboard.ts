/**
 * The stack's one CloudWatch dashboard: a graph per panel of
 * functions/shared/metric-names.ts (drains, hooks, cleanup, stops, alerts,
 * task-lock, audit), then errors, duration and dead letters per function.
 */
import { METRICS, METRICS_NAMESPACE, type Emitter, type MetricName, type Panel } from '../functions/shared/metric-names.ts';
import { metricQuery } from './alarms.ts';
import { functionKey, functionName, type FunctionId } from './functions/ids.ts';
import type { Resources } from './resources.ts';

export const DASHBOARD_LOGICAL_ID = 'OpsDashboard';

const PANEL_TITLES: Record<Panel, string> = {
  drains: 'Drains: started, completed, timed out, closed otherwise',
  hooks: 'Lifecycle hooks: heartbeats, expiries (action gone), completion failures',
  cleanup: 'Cleanup runs and instances',
  'cleanup-bytes': 'Cleanup: bytes reclaimed, trimmed, free after',
  stops: 'Stopped tasks and cluster events',
  alerts: 'Alerts',
  'task-lock': 'task-lock outcomes (all jobs)',
  audit: 'Audit',
  errors: 'Failed invocations (our metric)',
};

type Widget = { type: 'metric'; width: number; height: number; properties: Record<string, unknown> };

const REGION = '${AWS::Region}';

function graph(title: string, metrics: unknown[], extra: Record<string, unknown> = {}): Widget {
  return { type: 'metric', width: 12, height: 6, properties: { title, region: REGION, view: 'timeSeries', period: 300, stat: 'Sum', metrics, ...extra } };
}

/**
 * One graph line for a metric of a function. A metric with only the `service`
 * dimension is a plain metric; one with more is the sum of a SEARCH over its
 * dimension set. Not Metrics Insights: a graph runs one GetMetricData call,
 * which holds a single Metrics Insights query ("Metrics Insights quotas").
 */
export function widgetLine(name: MetricName, emitter: Emitter, stat: Stat, label: string, id: string): unknown[] {
  const service = functionKey(emitter.fn);
  if (emitter.dimensions.length === 0) return [METRICS_NAMESPACE, name, 'service', service, { stat, label, id }];
  const schema = [METRICS_NAMESPACE, ...emitter.dimensions, 'service'].join(',');
  const search = `SEARCH('{${schema}} MetricName="${name}" service="${service}"', '${stat}', 300)`;
  // An average of averages would weigh a quiet job like a busy one; the sum of sums and the max of maxima are exact.
  const combine = stat === 'Sum' ? 'SUM' : stat === 'Maximum' ? 'MAX' : 'AVG';
  return [{ expression: `${combine}(${search})`, label, id }];
}

type Stat = 'Sum' | 'Average' | 'Maximum';

/** One graph per panel, one line per metric and function. */
function panelWidgets(deployed: readonly FunctionId[]): Widget[] {
  const lines = new Map<Panel, unknown[]>();
  let id = 0;
  for (const [name, spec] of Object.entries(METRICS) as Array<[MetricName, (typeof METRICS)[MetricName]]>) {
    for (const emitter of spec.emitters) {
      if (!deployed.includes(emitter.fn)) continue;
      const stat: Stat = 'stat' in spec ? spec.stat : 'Sum';
      const label = spec.emitters.length > 1 ? `${name} (${functionKey(emitter.fn)})` : name;
      const list = lines.get(spec.panel) ?? [];
      list.push(widgetLine(name, emitter, stat, label, `m${id++}`));
      lines.set(spec.panel, list);
    }
  }
  const widgets = [...lines].map(([panel, metrics]) => graph(PANEL_TITLES[panel], metrics));
  if (deployed.includes('stopped-watch')) {
    // The stop categories are the point of stopped-watch: one line each, which only a GROUP BY gives.
    const emitter = METRICS.StoppedTasks.emitters[0]!;
    widgets.push(
      graph('Stopped tasks by category', [
        [{ expression: `${metricQuery('StoppedTasks', emitter)} GROUP BY Category`, label: 'StoppedTasks', id: 'categories' }],
      ]),
    );
  }
  return widgets;
}

export interface DashboardOptions {
  deployed: readonly FunctionId[];
  prefix: string;
}

export function dashboardResources({ deployed, prefix }: DashboardOptions): Resources {
  const names = deployed.map((fn) => functionName(prefix, fn));
  const widgets: Widget[] = [
    ...panelWidgets(deployed),
    graph(
      'Lambda errors and throttles per function',
      names.flatMap((n) => [
        ['AWS/Lambda', 'Errors', 'FunctionName', n],
        ['AWS/Lambda', 'Throttles', 'FunctionName', n],
      ]),
    ),
    graph(
      'Lambda duration per function (p99)',
      names.map((n) => ['AWS/Lambda', 'Duration', 'FunctionName', n]),
      { stat: 'p99' },
    ),
    graph(
      'Dead letters waiting, per function',
      names.map((n) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `${n}-dlq`]),
      { stat: 'Maximum' },
    ),
  ];
  // Two graphs a row; the dashboard places a widget without x/y after the previous one.
  const body = { widgets: widgets.map((w, i) => ({ ...w, x: (i % 2) * 12, y: Math.floor(i / 2) * 6 })) };
  return {
    [DASHBOARD_LOGICAL_ID]: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `${prefix}-ops`,
        DashboardBody: { 'Fn::Sub': JSON.stringify(body) },
      },
    },
  };
}
