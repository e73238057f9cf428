/**
 * What each function decided, in a sentence, from its return value and its
 * own log lines. Kept apart from the scenarios because a function reads the
 * same whatever the story around it.
 */
import type { StepResult, TickResult } from '../functions/drain/context.ts';
import type { CollectResult } from '../functions/cleanup/collect.ts';
import type { RunResult } from '../functions/cleanup/run.ts';
import type { OccurrenceOutcome } from '../functions/task-lock/lock.ts';
import type { BatchReport, FlushReport, RecordOutcome } from '../functions/stopped-watch/watch.ts';
import { demoConfig } from './deployment.ts';
import type { Describer, Invocation } from './lambda.ts';
import type { World } from './world.ts';

const logged = (invocation: Invocation, message: string) => invocation.logs.find((l) => l.message === message);
const warnings = (invocation: Invocation) => invocation.logs.filter((l) => l.level === 'WARN').map((l) => `! ${l.message}`);

export const bytes = (n: number | null | undefined): string => {
  if (n === null || n === undefined) return 'unknown';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${n} B`;
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function describeDrain(world: World): Describer {
  const blockingText = (invocation: Invocation, count: number | undefined): string => {
    const sample: string[] | undefined = logged(invocation, 'Drain in progress')?.sample;
    const named = sample?.map((s) => {
      const [id, status] = s.split(':');
      return `${world.taskName(world.sim.ecs.task(id!) ?? id!)} ${status}`;
    });
    if (count === undefined || count === 0) return 'nothing left to wait for';
    return `waiting for ${plural(count, 'task')}${named?.length ? `: ${named.join(', ')}` : ''}`;
  };
  const completed = (r: StepResult) =>
    r.outcome === 'drained'
      ? 'every task is STOPPED: CompleteLifecycleAction CONTINUE'
      : r.outcome === 'timed-out'
        ? 'drain timed out: CompleteLifecycleAction'
        : undefined;

  return (event, { result }, invocation) => {
    const detailType: string = event['detail-type'];
    if (detailType === 'Scheduled Event') {
      const tick = result as TickResult;
      if (tick.open === 0) return undefined;
      const parts = [`reconcile tick: ${plural(tick.open, 'open drain')}`];
      if (tick.heartbeats)
        parts.push(
          `${plural(tick.heartbeats, 'heartbeat')} sent by instance id to what Auto Scaling lists in Terminating:Wait (HeartbeatTimeout ${demoConfig.drain.heartbeatTimeoutSeconds} s)`,
        );
      if (tick.autoScaling?.adopted) parts.push(`${plural(tick.autoScaling.adopted, 'action')} adopted whose event never came`);
      for (const r of tick.results) parts.push(completed(r) ?? (r.outcome === 'waiting' ? blockingText(invocation, r.blocking) : r.outcome));
      return { text: parts.join('; '), detail: warnings(invocation) };
    }
    const step = result as StepResult;
    const done = completed(step);
    if (detailType === 'EC2 Instance-terminate Lifecycle Action') {
      const instance = event.detail.EC2InstanceId;
      if (step.outcome === 'duplicate') return { text: `lifecycle action of ${instance} delivered again: nothing more to do` };
      const draining = logged(invocation, 'Container instance set DRAINING') ? 'container instance set DRAINING; ' : '';
      return { text: `lifecycle action of ${instance}: ${draining}${done ?? blockingText(invocation, step.blocking)}`, detail: warnings(invocation) };
    }
    if (detailType === 'ECS Task State Change') {
      if (step.outcome === 'not-draining') return undefined;
      const task = world.taskName(event.detail.taskArn);
      if (step.outcome === 'stale') return { text: `STOPPED event of ${task} again: already counted` };
      return { text: `STOPPED event of ${task}: ${done ?? (step.blocking ? `${plural(step.blocking, 'task')} still to stop` : 'checking with ECS')}` };
    }
    if (detailType === 'ECS Container Instance State Change') {
      if (step.outcome === 'not-draining') return undefined;
      const version = event.detail.version;
      if (step.outcome === 'stale') return { text: `container instance event v${version} (${event.detail.status}) is older than one already seen: ignored` };
      return {
        text: `container instance event v${version} (${event.detail.status}): ${done ?? (step.blocking ? `${plural(step.blocking, 'task')} still to stop` : 'checking with ECS')}`,
      };
    }
    return { text: `${detailType ?? 'event'}: ${step.outcome}` };
  };
}

export function describeStoppedRecord(world: World, event: any, r: RecordOutcome): string {
  if (r.outcome === 'ignored') return `ignored: ${r.why}`;
  if (r.outcome === 'failed') return `failed: ${r.error}`;
  const task = event?.detail?.taskArn ? `${world.taskName(event.detail.taskArn)} ` : '';
  const alert = {
    alerted: 'alert sent',
    'alert-failed': 'alert not sent yet (the flush retries)',
    counted: 'counted in the open alert window, no new alert',
    duplicate: 'same event delivered again: counted once',
    'below-min-severity': 'below alerts.minSeverity: metric only',
    'never-alerted': 'never alerted',
    'no-topic': 'no alert topic',
  }[r.alert ?? 'no-topic'];
  const cleanup =
    r.cleanup === 'requested' ? '; Cleanup Requested put on the bus' : r.cleanup === 'already-requested' ? '; cleanup already requested for this instance' : '';
  return `${task}stopped: ${r.category} (${r.severity}) → ${alert}${cleanup}`;
}

export function describeStoppedWatch(world: World): Describer {
  return (event, { result }) => {
    if ('examined' in (result as object)) {
      const flush = result as FlushReport;
      return flush.sent || flush.failed || flush.abandoned
        ? { text: `flush: ${plural(flush.examined, 'alert window')} examined, ${plural(flush.sent, 'summary', 'summaries')} sent` }
        : undefined;
    }
    const batch = result as BatchReport;
    return { text: batch.records.map((r) => describeStoppedRecord(world, event, r)).join('; ') };
  };
}

export function describeCleanup(world: World): Describer {
  return (_event, { result }, invocation) => {
    if (result.outcome === 'ignored') return undefined;
    if ('commandId' in result) {
      const collect = result as CollectResult;
      if (collect.outcome === 'not-final') return undefined;
      if (collect.outcome === 'duplicate') return { text: `status event of ${collect.instanceId} again: report already collected` };
      const c = collect.classification;
      const head = `report of ${collect.instanceId} collected: ${c.outcome} (${c.reason})`;
      if (c.output.kind !== 'report') return { text: `${head}, ${c.output.kind}` };
      const r = c.output.report;
      const freed = `reclaimed ${bytes(r.reclaimedBytes)}, trimmed ${bytes(r.trimmedBytes)}, ${plural(r.containers.removed, 'container')} and ${plural(r.volumes.removed, 'volume')} removed`;
      return {
        text: `${head}: ${freed}`,
        detail: [
          `free ${r.freePercentBefore}% → ${r.freePercentAfter}% (${bytes(r.freeBytesBefore)} → ${bytes(r.freeBytesAfter)}); metrics ${Object.keys(invocation.metrics).join(', ')}`,
        ],
      };
    }
    const run = result as RunResult;
    const trigger = run.trigger.kind === 'request' ? `Cleanup Requested (${run.trigger.detail.split(':')[0]})` : run.trigger.kind;
    const parts: string[] = [];
    for (const cluster of run.clusters) {
      for (const command of cluster.commands) {
        const sent = world.ssm.command(command.commandId);
        const params = sent
          ? Object.entries(sent.parameters)
              .map(([k, [v]]) => `${k}=${v}`)
              .join(' ')
          : '';
        parts.push(
          `SendCommand ${sent?.documentName ?? 'document'} to ${command.instanceIds.join(', ')} (command ${command.commandId.slice(0, 8)}…${params ? `, ${params}` : ''})`,
        );
      }
      if (cluster.deduplicated.length) parts.push(`${cluster.deduplicated.join(', ')} already had a command within cleanup.dedupSeconds: nothing sent`);
      for (const [ids, why] of [
        [cluster.notManaged, 'not managed by SSM'],
        [cluster.offline, 'SSM agent offline'],
        [cluster.failed, 'SendCommand failed'],
      ] as const) {
        if (ids.length) parts.push(`${ids.join(', ')}: ${why}`);
      }
    }
    if (run.notActive.length) parts.push(`${run.notActive.join(', ')}: not an ACTIVE container instance, skipped`);
    return { text: `${trigger}${run.dryRun ? ' (dry run)' : ''} → ${parts.join('; ') || 'no instance to clean'}` };
  };
}

export function describeTaskLock(world: World): Describer {
  return (event, { result }) => {
    if (event?.source === 'aws.ecs') {
      const r = result as { released: boolean; job?: string };
      return { text: `STOPPED event of ${world.taskName(event.detail.taskArn)}: ${r.released ? `slot of ${r.job} released` : 'nothing to release'}` };
    }
    const r = result as OccurrenceOutcome;
    const what =
      r.outcome === 'started'
        ? `RunTask: started ${world.taskName(r.taskArn)}`
        : r.outcome === 'skipped'
          ? `skipped: previous run ${r.runningTaskArn ? world.taskName(r.runningTaskArn) : ''} still running`
          : r.outcome === 'too-late'
            ? `refused: ${r.lateSeconds} s late, the next occurrence is due`
            : `duplicate delivery, nothing started (lock is ${r.state})`;
    return { text: `${event.job} ${String(event.scheduledTime).slice(11, 16)}: ${what}` };
  };
}
