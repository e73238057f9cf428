/**
 * Random fleet scenarios for stopped-watch and cleanup, with drain running
 * alongside: 3 to 6 container instances (Online in Systems Manager, offline,
 * or not managed; some go offline, some are terminated and drained), bursts
 * of task stops (out of memory, full thin pool, ordinary exits, deployments)
 * that stopped-watch classifies and alerts on, full-disk stops that make it
 * request a cleanup, and scheduled or manual cleanup runs.
 */
import fc from 'fast-check';
import { cleanupPatterns } from '../../functions/cleanup/events.ts';
import { drainPatterns } from '../../functions/drain/events.ts';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { stoppedWatchPatterns } from '../../functions/stopped-watch/events.ts';
import { functionName } from '../../infra/functions/ids.ts';
import type { PublishedMessage } from '../../sim/sns.ts';
import { reportLine } from '../support/cleanup-report.ts';
import { drainOutcome, observeCompletions } from './drain-scenario.ts';
import { ALARM_PREFIX, DOCUMENT, PREFIX } from './functions.ts';
import type { Invocation, KillPlan } from '../../sim/lambda.ts';
import { scheduledEvent } from '../../sim/eventbridge.ts';
import {
  applyFaults,
  armKill,
  every,
  faultPlanArbitrary,
  injectMalformed,
  killPlanArbitrary,
  malformedViolations,
  runUntil,
  subscribeRules,
  timeline,
  validInDlq,
  type FaultPlan,
  type World,
} from './world.ts';

export const CLUSTER = 'prod';
const ASG = 'prod-asg';
const TOPIC = 'ecs-caretaker-e2e-alerts';
const WINDOW_MINUTES = 5;

export const FLEET_CONFIG = {
  clusters: [{ name: CLUSTER, asgs: [ASG] }],
  alerts: { topicArn: `arn:aws:sns:eu-west-1:123456789012:${TOPIC}`, minSeverity: 'high', windowMinutes: WINDOW_MINUTES },
  stoppedWatch: { requestCleanup: true },
  cleanup: { schedule: 'rate(1 hour)', dedupSeconds: 300, maxConcurrency: '50%', maxErrors: '50%', timeoutSeconds: 600 },
  drain: { heartbeatTimeoutSeconds: 300, drainTimeoutSeconds: 600 },
} satisfies CaretakerConfigInput;

const config = parseConfig(FLEET_CONFIG);
const ec2Id = (n: number): string => `i-0${(0xf000 + n).toString(16).padStart(16, '0')}`;

export type StopKind = 'oom' | 'thin-pool' | 'essential-exit' | 'deployment';
export type FleetMalformed = 'sns-not-json' | 'cleanup-unknown-cluster' | 'cleanup-request-bad-arn';

export interface FleetScenario {
  seed: number;
  faults: FaultPlan;
  kill: KillPlan;
  instances: Array<{ ssm: 'online' | 'offline' | 'unmanaged'; offlineAtSeconds: number | null }>;
  terminations: Array<{ instance: number; atSeconds: number }>;
  stops: Array<{ atSeconds: number; kind: StopKind; service: 'web' | 'api'; instance: number; burst: number }>;
  cleanupRuns: Array<{ atSeconds: number; instances: number[] | null }>;
  malformed: FleetMalformed[];
}

export const fleetScenarioArbitrary: fc.Arbitrary<FleetScenario> = fc.integer({ min: 3, max: 6 }).chain((n) =>
  fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    faults: faultPlanArbitrary,
    kill: killPlanArbitrary(30, 10),
    instances: fc.array(
      fc.record({
        ssm: fc.constantFrom<'online' | 'offline' | 'unmanaged'>('online', 'online', 'online', 'online', 'offline', 'unmanaged'),
        offlineAtSeconds: fc.option(fc.integer({ min: 0, max: 600 }), { freq: 4 }),
      }),
      { minLength: n, maxLength: n },
    ),
    terminations: fc.uniqueArray(fc.record({ instance: fc.nat({ max: n - 1 }), atSeconds: fc.integer({ min: 20, max: 600 }) }), {
      maxLength: 2,
      selector: (t) => t.instance,
    }),
    stops: fc.array(
      fc.record({
        atSeconds: fc.integer({ min: 0, max: 720 }),
        kind: fc.constantFrom<StopKind>('oom', 'oom', 'thin-pool', 'thin-pool', 'essential-exit', 'deployment'),
        service: fc.constantFrom<'web' | 'api'>('web', 'api'),
        instance: fc.nat({ max: n - 1 }),
        burst: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: 3, maxLength: 10 },
    ),
    cleanupRuns: fc.array(
      fc.record({ atSeconds: fc.integer({ min: 0, max: 720 }), instances: fc.option(fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: n })) }),
      { minLength: 1, maxLength: 3 },
    ),
    malformed: fc.array(fc.constantFrom<FleetMalformed>('sns-not-json', 'cleanup-unknown-cluster', 'cleanup-request-bad-arn'), { minLength: 1, maxLength: 3 }),
  }),
);

const STOPS: Record<StopKind, { reason: string; stopCode: 'EssentialContainerExited' | 'TaskFailedToStart' | 'ServiceSchedulerInitiated'; exitCode?: number }> =
  {
    oom: { reason: 'OutOfMemoryError: Container killed due to memory usage', stopCode: 'EssentialContainerExited', exitCode: 137 },
    // The devicemapper thin-pool message of an image pull (ECS developer guide, CannotPullContainerError).
    'thin-pool': {
      reason:
        'CannotPullContainerError: failed to register layer: devmapper: Thin Pool has 4350 free data blocks which is less than minimum required 4454 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior',
      stopCode: 'TaskFailedToStart',
    },
    'essential-exit': { reason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', exitCode: 1 },
    deployment: { reason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)', stopCode: 'ServiceSchedulerInitiated', exitCode: 143 },
  };

// ---------------------------------------------------------------------------------------------
// The alert invariant

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The latest time of day HH:MM (UTC) at or before `at`. */
function minuteOf(hhmm: string, at: number): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const t = Math.floor(at / DAY) * DAY + h * 3_600_000 + m * MINUTE;
  return t > at ? t - DAY : t;
}

/**
 * One alert per (cluster, service, category) and window: the first alert,
 * then at most one summary, after the window has ended; two windows of one
 * key start at least a window apart. Windows are read from the messages
 * themselves ("How many: ... at 10:04 UTC", "When: 10:04 to 10:09 UTC").
 *
 * The one repeat allowed is the at-least-once resend (README, stopped-watch):
 * the invocation that published the earlier copy was killed or failed (its
 * confirm write ran out of retries) before it could record it, and the copy
 * carries the same alertId. It is counted, not hidden.
 */
/**
 * A flush invocation succeeds even when one window failed: it logs the window
 * and leaves it to the next flush. When that window's confirm write ran out of
 * retries after Publish, its message goes out again: the sender failed for
 * that message, though not as an invocation. `alertId` is `<window id>#<start>#<kind>`.
 */
function flushFailedFor(inv: Invocation, alertId: string | undefined): boolean {
  if (alertId === undefined) return false;
  const windowId = alertId.split('#').slice(0, -2).join('#');
  return inv.logs.some((line) => {
    try {
      const entry = JSON.parse(line) as { level?: string; message?: string; window?: string };
      return entry.level === 'ERROR' && entry.window === windowId && entry.message?.startsWith('Flushing an alert window failed') === true;
    } catch {
      return false;
    }
  });
}

export function alertViolations(
  messages: PublishedMessage[],
  windowMinutes: number,
  sender: (m: PublishedMessage) => Invocation | undefined = () => undefined,
): { problems: string[]; resent: number } {
  const problems: string[] = [];
  let resent = 0;
  const byKey = new Map<string, PublishedMessage[]>();
  for (const m of messages) {
    const a = (name: string) => m.attributes[name]?.StringValue ?? '?';
    const key = `${a('cluster')}/${a('service')}/${a('category')}`;
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  for (const [key, list] of byKey) {
    const firsts = new Map<number, PublishedMessage>();
    const summaries = new Map<number, PublishedMessage>();
    const alertId = (m: PublishedMessage) => m.attributes.alertId?.StringValue;
    /** A second copy of `earlier`: allowed only as the resend of a message whose sender died. */
    const repeat = (earlier: PublishedMessage, m: PublishedMessage, what: string) => {
      const first = sender(earlier);
      const unrecorded = first !== undefined && (first.killedAtCall !== undefined || first.status !== 'succeeded' || flushFailedFor(first, alertId(earlier)));
      if (unrecorded && alertId(earlier) !== undefined && alertId(earlier) === alertId(m)) resent++;
      else problems.push(`${what}${why(earlier)}`);
    };
    const why = (earlier: PublishedMessage) => {
      const inv = sender(earlier);
      if (!inv) return '';
      const fate =
        inv.killedAtCall !== undefined
          ? `was killed at its AWS call ${inv.killedAtCall}`
          : inv.status === 'succeeded'
            ? 'succeeded'
            : `${inv.status} (${inv.error?.message})`;
      return `; the earlier copy was published by invocation #${inv.id} (${inv.fn}:${inv.source}), which ${fate}`;
    };
    for (const m of list) {
      const kind = m.attributes.kind?.StringValue;
      if (kind === 'first') {
        const when = /How many: .*? (?:at|since) (\d\d:\d\d) UTC/.exec(m.message)?.[1];
        if (!when) {
          problems.push(`${key}: first alert without its window start: ${m.subject}`);
          continue;
        }
        const start = minuteOf(when, m.at);
        const earlier = firsts.get(start);
        if (earlier) repeat(earlier, m, `${key}: a second first alert for the window of ${when} UTC ("${m.subject}")`);
        else firsts.set(start, m);
      } else if (kind === 'summary') {
        const when = /When: (\d\d:\d\d) to (\d\d:\d\d) UTC/.exec(m.message);
        if (!when) {
          problems.push(`${key}: summary without its window: ${m.subject}`);
          continue;
        }
        const start = minuteOf(when[1]!, m.at);
        const end = minuteOf(when[2]!, m.at);
        const earlier = summaries.get(start);
        if (earlier) repeat(earlier, m, `${key}: a second summary for the window of ${when[1]} UTC ("${m.subject}")`);
        else summaries.set(start, m);
        if (!firsts.has(start)) problems.push(`${key}: a summary for the window of ${when[1]} UTC before any first alert of it`);
        if (m.at < end) problems.push(`${key}: the summary of the window ${when[1]}-${when[2]} UTC went out before the window ended`);
      } else {
        problems.push(`${key}: message without a kind attribute: ${m.subject}`);
      }
    }
    const starts = [...firsts.keys()].sort((x, y) => x - y);
    for (let i = 1; i < starts.length; i++) {
      if (starts[i]! - starts[i - 1]! < windowMinutes * MINUTE) {
        problems.push(
          `${key}: windows opened at ${new Date(starts[i - 1]!).toISOString().slice(11, 16)} and ${new Date(starts[i]!).toISOString().slice(11, 16)} UTC, less than ${windowMinutes} min apart`,
        );
      }
    }
  }
  return { problems, resent };
}

// ---------------------------------------------------------------------------------------------

export interface FleetRun {
  violations: string[];
  alerts: number;
  summaries: number;
  /** messages sent again because their first sender died between Publish and recording it */
  resent: number;
  commands: number;
  instancesSent: number;
  /** SendCommand to an instance that became DRAINING or offline during the invocation that sent it. */
  raced: number;
  /** Cleanup invocations that started while some instance of the fleet was DRAINING, deregistered or offline. */
  guarded: number;
  actions: number;
  validInDlq: number;
  killed: boolean;
}

export async function runFleetScenario(world: World, s: FleetScenario): Promise<FleetRun> {
  const { sim, runtime, ssm, sns, drain } = world;
  const topicArn = sns.createTopic(TOPIC);
  sim.ecs.addCluster(CLUSTER);
  sim.ecs.defineTaskDefinition('web');
  sim.ecs.defineTaskDefinition('api');
  const instances = s.instances.map((spec, i) => {
    const id = ec2Id(i);
    const ci = sim.ecs.addContainerInstance(CLUSTER, { ec2InstanceId: id });
    if (spec.ssm !== 'unmanaged') ssm.registerInstance(id, { pingStatus: spec.ssm === 'online' ? 'Online' : 'ConnectionLost' });
    return ci;
  });
  ssm.setDefaultResult({ exitCode: 0, durationMs: 20_000 });
  for (const ci of instances)
    if (ssm.managedInstance(ci.ec2InstanceId))
      ssm.setResult(ci.ec2InstanceId, { exitCode: 0, stdout: reportLine({ instance: ci.ec2InstanceId, driver: 'devicemapper' }), durationMs: 20_000 });
  drain.autoscaling.addGroup(ASG);
  drain.autoscaling.putLifecycleHook(ASG, {
    name: config.drain.hookName,
    heartbeatTimeoutSeconds: config.drain.heartbeatTimeoutSeconds,
    defaultResult: 'CONTINUE',
  });
  // A terminated instance is gone for Systems Manager too.
  drain.autoscaling.onInstanceLeft((_asg, id, fate) => {
    if (fate === 'terminated' && ssm.managedInstance(id)) ssm.setGone(id, 'terminated');
  });
  drain.services.addService(CLUSTER, { name: 'web', taskDefinition: 'web', on: instances.map((ci) => ({ instance: ci.arn, count: 1 })) });
  await sim.clock.advance(10_000);

  const completions = observeCompletions(world);
  // What each cleanup invocation could know when it started, and what was true when SendCommand reached SSM.
  const atStart = new Map<number, { notActive: Set<string>; offline: Set<string> }>();
  const snapshot = () => ({
    notActive: new Set(
      sim.ecs
        .containerInstances(CLUSTER)
        .filter((ci) => ci.status !== 'ACTIVE')
        .map((ci) => ci.ec2InstanceId),
    ),
    offline: new Set(instances.map((ci) => ci.ec2InstanceId).filter((id) => ssm.managedInstance(id)?.pingStatus !== 'Online')),
  });
  runtime.onStart = (inv: Invocation) => {
    if (inv.fn === 'cleanup') atStart.set(inv.id, snapshot());
  };
  const sends: Array<{ requestId?: string; instanceIds: string[]; state: ReturnType<typeof snapshot> }> = [];
  const ssmService = sim.service('ssm')!;
  const sendCommand = ssmService.operations.SendCommand!;
  ssmService.operations.SendCommand = async (input, ctx) => {
    const state = snapshot();
    const output = await sendCommand(input, ctx);
    sends.push({ requestId: ctx.requestId, instanceIds: input.InstanceIds ?? [], state });
    return output;
  };

  subscribeRules(world, 'stopped-watch', stoppedWatchPatterns(config.clusters.map((c) => c.name)));
  subscribeRules(world, 'cleanup', cleanupPatterns({ alarmNamePrefix: ALARM_PREFIX, documentName: DOCUMENT }));
  subscribeRules(world, 'drain', drainPatterns(config));
  every(world, 'drain', 60_000, (at, n) => scheduledEvent(world.sim, `${PREFIX}-drain-reconcile`, at, `drain-tick-${n}`));
  every(world, 'stopped-watch', 60_000, (at, n) => scheduledEvent(world.sim, `${functionName(PREFIX, 'stopped-watch')}-flush`, at, `flush-${n}`));
  applyFaults(world, s.faults);
  armKill(world, s.kill);

  const start = sim.clock.now();
  const at = (seconds: number, fn: () => void) => sim.clock.at(start + seconds * 1000, fn);
  s.instances.forEach((spec, i) => {
    if (spec.offlineAtSeconds !== null && spec.ssm === 'online')
      at(spec.offlineAtSeconds, () => ssm.managedInstance(ec2Id(i))?.state === 'running' && ssm.setPingStatus(ec2Id(i), 'ConnectionLost'));
  });
  for (const t of s.terminations) at(t.atSeconds, () => void drain.autoscaling.terminate(ASG, ec2Id(t.instance)));
  for (const stop of s.stops) {
    for (let b = 0; b < stop.burst; b++) {
      at(stop.atSeconds + b * 20, () => {
        const ci = instances[stop.instance]!;
        // ECS places nothing on a DRAINING instance.
        if (ci.status !== 'ACTIVE') return;
        const task = drain.services.runStandalone(ci.arn, stop.service, { group: `service:${stop.service}` });
        const { reason, stopCode, exitCode } = STOPS[stop.kind];
        sim.clock.after(5_000, () => {
          if (task.lastStatus !== 'STOPPED') sim.ecs.stopTaskNow(task.arn, { reason, stopCode, exitCode });
        });
      });
    }
  }
  for (const [k, run] of s.cleanupRuns.entries()) {
    at(run.atSeconds, () =>
      runtime.invoke(
        'cleanup',
        run.instances ? { cluster: CLUSTER, instanceIds: run.instances.map(ec2Id) } : { cluster: CLUSTER, trigger: 'schedule' },
        run.instances ? `manual-${k}` : `schedule-${k}`,
      ),
    );
  }
  for (const [n, kind] of s.malformed.entries()) {
    at(45 + n * 13, () => {
      switch (kind) {
        case 'sns-not-json':
          injectMalformed(world, {
            fn: 'stopped-watch',
            via: 'direct',
            event: {
              Records: [
                {
                  EventSource: 'aws:sns',
                  EventVersion: '1.0',
                  EventSubscriptionArn: `${topicArn}:relay`,
                  Sns: { Type: 'Notification', MessageId: `m-${n}`, TopicArn: topicArn, Message: '{"truncated":' },
                },
              ],
            },
            expect: 'Records[0].Sns.Message is not JSON',
          });
          return;
        case 'cleanup-unknown-cluster':
          injectMalformed(world, {
            fn: 'cleanup',
            via: 'direct',
            event: { cluster: 'staging', dryRun: n % 2 === 0 },
            expect: 'cluster: "staging" is not one of the configured clusters',
          });
          return;
        case 'cleanup-request-bad-arn':
          injectMalformed(world, {
            fn: 'cleanup',
            via: 'bus',
            event: sim.bus.envelope(
              'ecs-caretaker',
              'Cleanup Requested',
              { cluster: CLUSTER, containerInstanceArn: 'i-am-not-an-arn', reason: 'test', requestedBy: 'stopped-watch' },
              [],
              `malformed-request-${n}`,
            ),
            expect: 'Invalid Cleanup Requested event: detail.containerInstanceArn',
          });
          return;
      }
    });
  }

  const lastEvent = start + 1000 * Math.max(720 + 80, ...s.terminations.map((t) => t.atSeconds), ...s.cleanupRuns.map((r) => r.atSeconds));
  // Every window ended and summarised, every command reported, every drain over.
  const quiet = () =>
    sim.clock.now() > lastEvent + (WINDOW_MINUTES + 3) * MINUTE &&
    drain.autoscaling.actions.every((a) => a.status !== 'pending') &&
    ssm.commands.every((c) => c.invocations.every((i) => !['Pending', 'InProgress', 'Delayed'].includes(i.status)));
  await runUntil(world, quiet, { maxMs: 4 * 3600_000 });

  // ---- invariants
  const messages = sns.messages(topicArn);
  const publishes = sim.calls.filter((c) => c.service === 'sns' && c.op === 'Publish' && !c.error);
  const sender = (m: PublishedMessage) => {
    const call = publishes.find((c) => c.at === m.at && c.input?.Message === m.message);
    return call ? runtime.byRequestId.get(call.requestId) : undefined;
  };
  const alerts = alertViolations(messages, WINDOW_MINUTES, sender);
  const violations = alerts.problems;
  let raced = 0;
  for (const send of sends) {
    const inv = send.requestId ? runtime.byRequestId.get(send.requestId) : undefined;
    const known = inv ? atStart.get(inv.id) : undefined;
    if (!inv || !known) {
      violations.push(`SendCommand ${send.requestId} to ${send.instanceIds.join(', ')} not made by any cleanup invocation`);
      continue;
    }
    for (const id of send.instanceIds) {
      if (known.notActive.has(id)) violations.push(`cleanup invocation #${inv.id} sent a command to ${id}, which was not ACTIVE when it started`);
      else if (known.offline.has(id)) violations.push(`cleanup invocation #${inv.id} sent a command to ${id}, whose SSM agent was offline when it started`);
      else if (send.state.notActive.has(id) || send.state.offline.has(id)) raced++;
    }
  }
  const outcome = drainOutcome(world, completions, 'drain', { seconds: config.drain.drainTimeoutSeconds, outcome: config.drain.timeoutOutcome });
  violations.push(...outcome.early.map((e) => `early completion: ${e}`), ...outcome.expired.map((e) => `hook expired: ${e}`));
  violations.push(...malformedViolations(world));
  if (violations.length)
    violations.push(`timeline (without the idle ticks):\n    ${timeline(world, start, (i) => i.source !== 'schedule' || i.requestIds.length > 1, 80)}`);
  return {
    violations,
    alerts: messages.filter((m) => m.attributes.kind?.StringValue === 'first').length,
    summaries: messages.filter((m) => m.attributes.kind?.StringValue === 'summary').length,
    resent: alerts.resent,
    commands: sends.length,
    instancesSent: sends.reduce((n, s) => n + s.instanceIds.length, 0),
    raced,
    guarded: runtime.invocations.filter(
      (i) => i.fn === 'cleanup' && i.source !== 'invocation' && [atStart.get(i.id)].some((k) => k && k.notActive.size + k.offline.size > 0),
    ).length,
    actions: outcome.delivered,
    validInDlq: validInDlq(world),
    killed: runtime.killed !== undefined,
  };
}
