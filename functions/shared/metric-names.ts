/**
 * Every metric the functions publish, in one place. The code names metrics
 * with the MetricName type, so a name missing here does not compile; the
 * stack turns this list into its alarms and its dashboard (infra/alarms.ts,
 * infra/dashboard.ts), and test/infra/observability.test.ts checks that every
 * name the code can pass to addMetric is in the packaged template.
 *
 * Each metric also carries Powertools' default `service` dimension (the
 * function's osls key); `dimensions` are the others, in the one dimension set
 * the alarm or widget reads (cleanup publishes a second set per instance).
 */
import type { FunctionId } from './function-ids.ts';

/** Where a metric goes on the dashboard; `failure` metrics also get an alarm. */
export type Panel = 'drains' | 'hooks' | 'cleanup' | 'cleanup-bytes' | 'stops' | 'alerts' | 'task-lock' | 'audit' | 'errors';

export interface Emitter {
  fn: FunctionId;
  dimensions: readonly string[];
}

export interface MetricSpec {
  emitters: readonly Emitter[];
  panel: Panel;
  /** the alarm's description: what went wrong and where to look; absent for metrics that only count activity */
  alarm?: string;
  /** what a widget shows: a sum per period, or the latest value (a gauge) */
  stat?: 'Sum' | 'Average' | 'Maximum';
}

const every: readonly Emitter[] = (['drain', 'cleanup', 'stopped-watch', 'task-lock', 'audit'] as const).map((fn) => ({ fn, dimensions: [] }));
const drain = (...dimensions: string[]): Emitter[] => [{ fn: 'drain', dimensions }];
const cleanupByCluster: Emitter[] = [{ fn: 'cleanup', dimensions: ['Cluster'] }];
const watch = (...dimensions: string[]): Emitter[] => [{ fn: 'stopped-watch', dimensions }];
const job: Emitter[] = [{ fn: 'task-lock', dimensions: ['Job'] }];
const audit = (...dimensions: string[]): Emitter[] => [{ fn: 'audit', dimensions }];

export const METRICS = {
  InvocationFailed: {
    emitters: every,
    panel: 'errors',
    alarm: 'An invocation failed; Lambda retries it, then parks it in the DLQ. See the "invocation failed" log line.',
  },

  // drain
  DrainStarted: { emitters: drain(), panel: 'drains' },
  SpotDrainStarted: { emitters: drain(), panel: 'drains' },
  DuplicateDelivery: { emitters: [...drain(), ...job], panel: 'drains' },
  DrainReasserted: { emitters: drain(), panel: 'drains' },
  DrainCompleted: { emitters: drain(), panel: 'drains' },
  DrainTimedOut: { emitters: drain(), panel: 'drains', alarm: 'A drain reached drain.timeoutSeconds: the instance went with tasks still running.' },
  DrainStoodDown: { emitters: drain(), panel: 'drains' },
  DrainNotRegistered: { emitters: drain(), panel: 'drains' },
  DrainDeregistered: { emitters: drain(), panel: 'drains' },
  DrainSkippedWarmPool: { emitters: drain(), panel: 'drains' },
  DrainClosed: { emitters: drain(), panel: 'drains' },
  DrainActionGone: {
    emitters: drain(),
    panel: 'hooks',
    alarm: 'A lifecycle action ended before the drain did (hook timed out, or completed elsewhere): the instance may have gone undrained.',
  },
  DrainStepFailed: {
    emitters: drain(),
    panel: 'drains',
    alarm: 'A drain step failed; the next reconcile tick retries it. Repeated: see "why is this drain stuck".',
  },
  StandaloneTaskStopped: { emitters: drain(), panel: 'drains' },
  UnmovableService: {
    emitters: drain(),
    panel: 'drains',
    alarm: 'A service on a draining instance cannot be placed elsewhere: the drain waits for its timeout.',
  },
  HeartbeatSent: { emitters: drain(), panel: 'hooks' },
  HeartbeatFailed: { emitters: drain(), panel: 'hooks', alarm: 'A lifecycle heartbeat failed: the hook may expire and let the instance go undrained.' },
  CompleteFailed: { emitters: drain(), panel: 'hooks', alarm: 'CompleteLifecycleAction failed; the next tick retries it.' },
  DrainAdopted: { emitters: drain(), panel: 'drains' },
  DrainTableUnavailable: {
    emitters: drain(),
    panel: 'drains',
    alarm: 'The drain table could not be written: drains go on from the ECS and Auto Scaling APIs alone. Check DynamoDB throttling and the table.',
  },
  DrainCompletedWithoutTable: { emitters: drain(), panel: 'drains' },
  DrainReverted: { emitters: drain(), panel: 'drains' },
  DrainRevertFailed: {
    emitters: drain(),
    panel: 'drains',
    alarm: 'An instance that drain set DRAINING is still InService and could not be set ACTIVE again: set it ACTIVE by hand (README, Operate).',
  },
  StrayLifecycleEvent: { emitters: drain(), panel: 'hooks' },
  AutoScalingDescribeFailed: {
    emitters: drain(),
    panel: 'hooks',
    alarm: 'DescribeAutoScalingGroups failed: the tick keeps hooks alive from its records only, and lost lifecycle events are not adopted.',
  },
  EventTimeDistrusted: { emitters: drain(), panel: 'drains' },
  ContainerInstanceMismatch: {
    emitters: drain(),
    panel: 'drains',
    alarm: 'ListContainerInstances returned a container instance of another EC2 instance for the ec2InstanceId filter; it was not drained.',
  },
  WarmPoolInstanceRegistered: { emitters: drain(), panel: 'drains' },
  DrainDurationSeconds: { emitters: drain(), panel: 'drains', stat: 'Average' },
  ApiCallsPerDrain: { emitters: drain(), panel: 'drains', stat: 'Average' },

  // cleanup
  CleanupSucceeded: { emitters: cleanupByCluster, panel: 'cleanup' },
  CleanupFailed: {
    emitters: cleanupByCluster,
    panel: 'cleanup',
    alarm: 'The docker cleanup document failed on an instance. See "what did cleanup remove on this instance".',
  },
  CleanupUndeliverable: { emitters: cleanupByCluster, panel: 'cleanup', alarm: 'Run Command could not deliver the cleanup document to an instance.' },
  CleanupSkipped: { emitters: cleanupByCluster, panel: 'cleanup' },
  LowSpaceAfterCleanup: {
    emitters: cleanupByCluster,
    panel: 'cleanup',
    alarm: 'An instance is still below cleanup.minFreePercent after cleanup: the disk is full of what is in use.',
  },
  ReportUnparseable: {
    emitters: cleanupByCluster,
    panel: 'cleanup',
    alarm: 'A cleanup report could not be read: the document and the function disagree on its format.',
  },
  ReportTruncated: { emitters: cleanupByCluster, panel: 'cleanup' },
  ContainersWouldRemove: { emitters: cleanupByCluster, panel: 'cleanup' },
  VolumesWouldRemove: { emitters: cleanupByCluster, panel: 'cleanup' },
  ContainersRemoved: { emitters: cleanupByCluster, panel: 'cleanup' },
  VolumesRemoved: { emitters: cleanupByCluster, panel: 'cleanup' },
  ReclaimedBytes: { emitters: cleanupByCluster, panel: 'cleanup-bytes' },
  TrimmedBytes: { emitters: cleanupByCluster, panel: 'cleanup-bytes' },
  FreeBytesAfter: { emitters: cleanupByCluster, panel: 'cleanup-bytes', stat: 'Average' },
  InstancesEligible: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesSent: { emitters: cleanupByCluster, panel: 'cleanup' },
  CommandsSent: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesDeduplicated: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesNotManaged: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesOffline: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesUnsupportedPlatform: { emitters: cleanupByCluster, panel: 'cleanup' },
  InstancesNotActive: { emitters: cleanupByCluster, panel: 'cleanup' },
  SendCommandFailed: { emitters: cleanupByCluster, panel: 'cleanup', alarm: 'SendCommand failed for some instances of a cleanup run.' },

  // stopped-watch
  EventsReceived: { emitters: watch(), panel: 'stops' },
  StoppedTasks: { emitters: watch('ClusterName', 'ServiceName', 'Category'), panel: 'stops' },
  ClusterEvents: { emitters: watch('ClusterName', 'ServiceName', 'Category'), panel: 'stops' },
  Unclassified: { emitters: watch('ClusterName'), panel: 'stops' },
  DuplicateEvents: { emitters: watch(), panel: 'stops' },
  SnsEventIgnored: { emitters: watch('Reason'), panel: 'stops' },
  MalformedInput: { emitters: watch(), panel: 'stops', alarm: 'stopped-watch received an event it cannot read; it is logged with the reason.' },
  ProcessingFailed: { emitters: watch(), panel: 'stops', alarm: 'stopped-watch failed on an event; the invocation is retried, then parked in the DLQ.' },
  CleanupRequested: { emitters: watch('ClusterName'), panel: 'stops' },
  AlertsSent: { emitters: watch(), panel: 'alerts' },
  AlertSummariesSent: { emitters: watch(), panel: 'alerts' },
  AlertsSuppressed: { emitters: watch(), panel: 'alerts' },
  AlertsDropped: { emitters: watch(), panel: 'alerts', alarm: 'Alerts were dropped: a window summary could not be sent.' },
  AlertSendFailed: { emitters: watch(), panel: 'alerts', alarm: 'Publishing an alert to the alert topic failed.' },
  FlushRuns: { emitters: watch(), panel: 'alerts' },
  FlushFailures: { emitters: watch(), panel: 'alerts', alarm: 'The alert summary flush failed for some windows.' },

  // task-lock
  OccurrenceStarted: { emitters: job, panel: 'task-lock' },
  OverlapSkipped: { emitters: job, panel: 'task-lock' },
  LockTakeover: { emitters: job, panel: 'task-lock' },
  LeaseExpired: { emitters: job, panel: 'task-lock' },
  SlotReleased: { emitters: job, panel: 'task-lock' },
  RunTaskFailed: { emitters: job, panel: 'task-lock', alarm: 'RunTask failed for a job occurrence. See "why was this job skipped".' },
  OverlapCheckFailed: {
    emitters: job,
    panel: 'task-lock',
    alarm: 'ListTasks failed before a start: overlap was judged from the lock lease alone. See "why was this job skipped".',
  },
  JobOverrun: { emitters: job, panel: 'task-lock', alarm: 'A run outlasted maxRunSeconds (PENDING included) and the next occurrence was due.' },
  StopPreviousFailed: { emitters: job, panel: 'task-lock', alarm: 'onOverrun stop-previous could not stop the overrunning task; the occurrence was skipped.' },
  PreviousRunStopped: { emitters: job, panel: 'task-lock' },
  OccurrenceTooLate: {
    emitters: job,
    panel: 'task-lock',
    alarm: 'An occurrence arrived later than maxDelaySeconds and was not run: look for delivery delays or a late redrive.',
  },

  // audit
  ServicesAudited: { emitters: audit(), panel: 'audit' },
  AuditFindings: { emitters: audit('ClusterName', 'Rule', 'Severity'), panel: 'audit' },
  OutOfScopeEvents: { emitters: audit(), panel: 'audit' },
  DigestsSent: { emitters: audit(), panel: 'audit' },
  DigestsUnchanged: { emitters: audit(), panel: 'audit' },
  DigestsContended: { emitters: audit(), panel: 'audit' },
  ClusterAuditFailed: {
    emitters: audit('ClusterName'),
    panel: 'audit',
    alarm: 'A cluster could not be audited (permissions or throttling); see the "Cluster not audited" log line.',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

/** The namespace every function publishes to (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'EcsCaretaker';
