/**
 * The cleanup function's real handler (middy, Powertools, SDK clients built
 * from the environment) against the simulator: ECS and Systems Manager through
 * AWS_ENDPOINT_URL_*, dynalite for the table, the status events of the
 * simulated invocations delivered through the sim bus with the function's own
 * pattern.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandInvocationPattern } from '../../functions/cleanup/events.ts';
import { CLEANUP_REQUEST_DETAIL_TYPE, CLEANUP_REQUEST_SOURCE } from '../../functions/shared/cleanup-request.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { ALARM_PREFIX, DOCUMENT, coldStart, invoke, reportLine, startWorld, type CleanupWorld } from './world.ts';

let world: CleanupWorld;
const clusters = [{ name: 'prod' }, { name: 'batch' }, { name: 'web' }, { name: 'jobs' }, { name: 'edge' }];
let prodFleet: string[];
let batchFleet: string[];
let webFleet: string[];
let jobsFleet: string[];
let edgeFleet: string[];

beforeAll(async () => {
  world = await startWorld(clusters.map((c) => c.name));
  prodFleet = world.addFleet('prod', 1, 1000);
  batchFleet = world.addFleet('batch', 2001, 10);
  webFleet = world.addFleet('web', 3001, 120);
  jobsFleet = world.addFleet('jobs', 4001, 8);
  edgeFleet = world.addFleet('edge', 5001, 6);
});
afterAll(async () => {
  vi.useRealTimers();
  await world?.close();
});
beforeEach(() => {
  world.sim.faults.clear();
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const sendCalls = () => world.sim.calls.filter((c) => c.service === 'ssm' && c.op === 'SendCommand');
const invocationsOf = (ids: string[]) => ids.map((id) => world.ssm.invocationsOf(id).length);
const fromSendCalls = (calls: ReturnType<typeof sendCalls>) => calls.filter((c) => !c.error).flatMap((c) => c.input.InstanceIds as string[]);

/** The SSM "EC2 Command Invocation Status-change Notification" of our document for one instance. */
const statusChange = (id: string, commandId: string, instanceId: string, status: string) => ({
  version: '0',
  id,
  'detail-type': 'EC2 Command Invocation Status-change Notification',
  source: 'aws.ssm',
  account: '123456789012',
  time: '2026-11-23T03:10:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: { 'command-id': commandId, 'document-name': DOCUMENT, 'instance-id': instanceId, 'requested-date-time': '2026-11-23T03:00:00.000Z', status },
});

/** The EventBridge alarm payload (a real one, renamed into our prefix) about one metric with these dimensions. */
function eventBridgeAlarm(name: string, dimensions: Record<string, string>) {
  const event = loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json');
  event.detail.alarmName = `${ALARM_PREFIX}-${name}`;
  event.resources = [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${ALARM_PREFIX}-${name}`];
  event.detail.configuration.metrics[0].metricStat.metric.dimensions = dimensions;
  return event;
}

/** The Lambda alarm-action payload (a real metric-math one), renamed, its first metric on `dimensions`. */
function alarmAction(name: string, dimensions: Record<string, string>) {
  const event = loadAwsEvent('cloudwatch-alarm-lambda-action-single-metric-powertools.json');
  event.alarmData.alarmName = `${ALARM_PREFIX}-${name}`;
  event.alarmArn = `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${ALARM_PREFIX}-${name}`;
  event.alarmData.configuration.metrics[1].metricStat.metric.dimensions = dimensions;
  return event;
}

const cleanupRequested = (detail: Record<string, unknown>) => ({
  version: '0',
  id: 'c0ffee00-0000-4000-8000-000000000001',
  'detail-type': CLEANUP_REQUEST_DETAIL_TYPE,
  source: CLEANUP_REQUEST_SOURCE,
  account: '123456789012',
  time: '2026-11-23T03:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

describe('cleanup handler: targets', () => {
  it('a 1,000-instance cluster with 30 DRAINING and 20 SSM-offline instances: 19 SendCommand calls, none for the 50 excluded', async () => {
    const draining = prodFleet.slice(0, 30);
    const offline = prodFleet.slice(500, 520);
    for (const id of draining) world.sim.ecs.setContainerInstanceStatus(id, 'DRAINING');
    for (const id of offline) world.ssm.setPingStatus(id, 'ConnectionLost');
    const { handler } = await coldStart(world, { clusters });
    const callsBefore = world.sim.calls.length;

    const result = await invoke(world, handler, { cluster: 'prod', trigger: 'schedule' });

    const calls = world.sim.calls.slice(callsBefore);
    const sends = calls.filter((c) => c.op === 'SendCommand');
    expect(sends.length).toBeLessThanOrEqual(20);
    expect(sends).toHaveLength(19); // 950 instances in batches of at most 50
    for (const send of sends) expect(send.input.InstanceIds.length).toBeLessThanOrEqual(50);
    const sent = sends.flatMap((c) => c.input.InstanceIds as string[]);
    expect(new Set(sent).size).toBe(950);
    const excluded = new Set([...draining, ...offline]);
    expect(sent.filter((id) => excluded.has(id))).toEqual([]);
    expect(invocationsOf([...excluded]).every((n) => n === 0)).toBe(true);
    expect(result.clusters[0]).toMatchObject({ cluster: 'prod', offline: expect.arrayContaining(offline), notManaged: [], failed: [] });
    expect(result.clusters[0].offline).toHaveLength(20);

    // Paginated reads: 970 ACTIVE container instances, 100 a page; SSM states, 50 ids a call.
    expect(calls.filter((c) => c.op === 'ListContainerInstances')).toHaveLength(10);
    expect(calls.filter((c) => c.op === 'ListContainerInstances').every((c) => c.input.status === 'ACTIVE')).toBe(true);
    expect(calls.filter((c) => c.op === 'DescribeContainerInstances')).toHaveLength(10);
    expect(calls.filter((c) => c.op === 'DescribeInstanceInformation')).toHaveLength(20);

    const first = sends[0]!.input;
    expect(first).toMatchObject({
      DocumentName: DOCUMENT,
      Parameters: { DryRun: ['false'], GraceSeconds: ['3600'], Fstrim: ['auto'], MinFreePercent: ['10'] },
      MaxConcurrency: '10%',
      MaxErrors: '10%',
      // 10% of 50 is 5 at a time: 10 waves of up to 600 s must all start before the delivery deadline.
      TimeoutSeconds: 6000,
      // The group the stack creates with its retention, named so that SSM does not make its own.
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: `/aws/ssm/${DOCUMENT}` },
    });
    expect(first.Comment).toMatch(/^ecs-caretaker cleanup, schedule, c=prod #[0-9a-f]{8}$/);
    for (const id of [...draining, ...offline]) {
      world.sim.ecs.setContainerInstanceStatus(id, 'ACTIVE');
      world.ssm.setPingStatus(id, 'Online');
    }
  });

  it('an alarm, as an EventBridge event and as a Lambda alarm action, cleans only the alarmed instance', async () => {
    const { handler } = await coldStart(world, { clusters });
    const before = sendCalls().length;

    const viaRule = await invoke(world, handler, eventBridgeAlarm('disk-a', { InstanceId: batchFleet[3]! }));
    const viaAction = await invoke(world, handler, alarmAction('disk-b', { InstanceId: batchFleet[7]!, path: '/var/lib/docker' }));

    const sends = sendCalls().slice(before);
    expect(sends.map((c) => c.input.InstanceIds)).toEqual([[batchFleet[3]], [batchFleet[7]]]);
    expect(sends[0]!.input.Comment).toMatch(/^ecs-caretaker cleanup, alarm, c=batch #/);
    expect(viaRule.clusters).toMatchObject([{ cluster: 'batch', commands: [{ instanceIds: [batchFleet[3]] }] }]);
    expect(viaAction.clusters).toMatchObject([{ cluster: 'batch', commands: [{ instanceIds: [batchFleet[7]] }] }]);
    const others = batchFleet.filter((_, i) => i !== 3 && i !== 7);
    expect(invocationsOf(others).every((n) => n === 0)).toBe(true);
  });

  it('an alarmed instance that is DRAINING or offline is checked, and nothing is sent', async () => {
    const { handler } = await coldStart(world, { clusters });
    world.sim.ecs.setContainerInstanceStatus(jobsFleet[0]!, 'DRAINING');
    world.ssm.setPingStatus(jobsFleet[1]!, 'ConnectionLost');
    const before = sendCalls().length;

    const draining = await invoke(world, handler, eventBridgeAlarm('disk-c', { InstanceId: jobsFleet[0]! }));
    const offline = await invoke(world, handler, alarmAction('disk-d', { EC2InstanceId: jobsFleet[1]!, ClusterName: 'jobs' }));

    expect(sendCalls().length - before).toBe(0);
    expect(draining).toMatchObject({ clusters: [], notActive: [jobsFleet[0]] });
    expect(offline.clusters).toMatchObject([{ cluster: 'jobs', commands: [], offline: [jobsFleet[1]] }]);
    world.sim.ecs.setContainerInstanceStatus(jobsFleet[0]!, 'ACTIVE');
    world.ssm.setPingStatus(jobsFleet[1]!, 'Online');
  });

  it('an alarm on a ClusterName metric cleans that cluster; a Cleanup Requested event cleans its container instance', async () => {
    const { handler } = await coldStart(world, { clusters });
    const before = sendCalls().length;
    await invoke(world, handler, eventBridgeAlarm('cluster-disk', { ClusterName: 'jobs' }));
    const containerInstance = world.sim.ecs.containerInstance(batchFleet[5]!)!;
    const requested = await invoke(
      world,
      handler,
      cleanupRequested({
        cluster: 'batch',
        containerInstanceArn: containerInstance.arn,
        ec2InstanceId: batchFleet[5],
        reason: 'CannotPullContainerError: no space left on device',
        requestedBy: 'stopped-watch',
      }),
    );
    const sends = sendCalls().slice(before);
    expect(sends.map((c) => [...c.input.InstanceIds].sort())).toEqual([[...jobsFleet].sort(), [batchFleet[5]]]);
    expect(requested.clusters[0].commands[0].instanceIds).toEqual([batchFleet[5]]);
    expect(sends[1]!.input.Comment).toMatch(/, request, c=batch #/);
  });

  it('an instance SSM refuses to describe is left out alone, and a Windows one is skipped', async () => {
    const { handler } = await coldStart(world, { clusters });
    // Terminated since ECS listed it: DescribeInstanceInformation fails the whole call that names it.
    world.ssm.setGone(edgeFleet[1]!, 'nonexistent');
    world.ssm.registerInstance(edgeFleet[4]!, { platformType: 'Windows' });
    const before = sendCalls().length;
    const result = await invoke(world, handler, { cluster: 'edge' });
    expect(fromSendCalls(sendCalls().slice(before)).sort()).toEqual([edgeFleet[0], edgeFleet[2], edgeFleet[3], edgeFleet[5]].sort());
    expect(result.clusters[0]).toMatchObject({ notManaged: [edgeFleet[1]], unsupported: [edgeFleet[4]] });
  });

  it('a direct invoke takes instanceIds and dryRun, and never reaches an instance of another cluster', async () => {
    const { handler } = await coldStart(world, { clusters });
    const before = sendCalls().length;
    const result = await invoke(world, handler, { cluster: 'batch', instanceIds: [batchFleet[0], batchFleet[1], jobsFleet[2]], dryRun: true });
    const sends = sendCalls().slice(before);
    expect(sends).toHaveLength(1);
    expect(sends[0]!.input).toMatchObject({ InstanceIds: [batchFleet[0], batchFleet[1]], Parameters: { DryRun: ['true'] } });
    expect(sends[0]!.input.Comment).toMatch(/^ecs-caretaker cleanup, manual \(dry run\), c=batch #/);
    expect(result.notActive).toEqual([jobsFleet[2]]);
  });
});

describe('cleanup handler: one command per instance', () => {
  it('duplicate triggers within a minute (concurrent, repeated, and an alarm on top) send one command per instance', async () => {
    const { handler } = await coldStart(world, { clusters });
    const before = sendCalls().length;
    const schedule = { cluster: 'batch', trigger: 'schedule' };

    const concurrent = await Promise.all([invoke(world, handler, schedule), invoke(world, handler, schedule), invoke(world, handler, schedule)]);
    await world.sim.clock.advance(30_000);
    const again = await invoke(world, handler, schedule);
    const alarm = await invoke(world, handler, eventBridgeAlarm('disk-dup', { InstanceId: batchFleet[2]! }));

    const sent = fromSendCalls(sendCalls().slice(before));
    expect(sent.sort()).toEqual([...batchFleet].sort());
    const deduplicated = [...concurrent, again, alarm].flatMap((r) => r.clusters.flatMap((c: any) => c.deduplicated));
    expect(deduplicated.sort()).toEqual([...batchFleet, ...batchFleet, ...batchFleet, batchFleet[2]].sort());

    // A dry run keeps its own marks: it neither is held back by nor holds back a real run.
    const dry = await invoke(world, handler, { cluster: 'batch', instanceIds: [batchFleet[2]], dryRun: true });
    expect(dry.clusters[0].commands).toHaveLength(1);

    // Past dedupSeconds (300 by default), the next trigger cleans again.
    await world.sim.clock.advance(301_000);
    const later = await invoke(world, handler, schedule);
    expect(later.clusters[0].commands.flatMap((c: any) => c.instanceIds).sort()).toEqual([...batchFleet].sort());
  });
});

describe('cleanup handler: bad input', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'an alarm whose metrics name neither instance nor cluster',
      () => {
        const event = loadAwsEvent('cloudwatch-alarm-lambda-action-single-metric-powertools.json');
        event.alarmData.alarmName = `${ALARM_PREFIX}-lambda`;
        return event;
      },
      /alarmData\.configuration\.metrics\[\]\.metricStat\.metric\.dimensions: .*no InstanceId, EC2InstanceId or ClusterName dimension/,
    ],
    [
      'a composite alarm',
      () => {
        const event = loadAwsEvent('cloudwatch-alarm-state-change-composite-docs.json');
        event.detail.alarmName = `${ALARM_PREFIX}-composite`;
        return event;
      },
      /detail\.configuration\.metrics: .*composite alarm/,
    ],
    [
      'an alarm with a malformed InstanceId',
      () => eventBridgeAlarm('bad', { InstanceId: 'web-1' }),
      /detail\.configuration\.metrics\[0\]\.metricStat\.metric\.dimensions\.InstanceId: expected an EC2 instance id/,
    ],
    [
      'an alarm without a state',
      () => {
        const event = eventBridgeAlarm('no-state', { InstanceId: 'i-00000000000000001' });
        delete event.detail.state;
        return event;
      },
      /detail\.state\.value: expected ALARM/,
    ],
    [
      'an alarm on an unconfigured cluster',
      () => eventBridgeAlarm('other', { ClusterName: 'staging' }),
      /ClusterName: "staging" is not one of the configured clusters/,
    ],
    [
      'an alarm outside our name prefix',
      () => loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json'),
      /detail\.alarmName: "ServerCpuTooHigh" does not start with "cc-test-cleanup"/,
    ],
    [
      'a Cleanup Requested event without a container instance ARN',
      () => cleanupRequested({ cluster: 'batch', ec2InstanceId: 'i-00000000000000001', reason: 'disk', requestedBy: 'stopped-watch' }),
      /detail\.containerInstanceArn: expected a container instance ARN/,
    ],
    [
      'a Cleanup Requested event for an unconfigured cluster',
      () =>
        cleanupRequested({
          cluster: 'staging',
          containerInstanceArn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/staging/abc',
          reason: 'disk',
          requestedBy: 'stopped-watch',
        }),
      /detail\.cluster: "staging" is not one of the configured clusters/,
    ],
    ['a direct invoke with a bad instance id', () => ({ cluster: 'batch', instanceIds: ['web-1'] }), /instanceIds\[0\]: expected an EC2 instance id/],
  ];

  it.each(cases)('%s: a clear error naming the field, and nothing sent', async (_, event, message) => {
    const { handler } = await coldStart(world, { clusters });
    const callsBefore = world.sim.calls.length;
    await expect(invoke(world, handler, event())).rejects.toThrow(message);
    expect(world.sim.calls.slice(callsBefore).filter((c) => c.service === 'ssm' || c.service === 'ecs')).toEqual([]);
  });
});

describe('cleanup handler: SendCommand failures', () => {
  it('a throttled SendCommand is retried by the SDK, and nothing is sent twice', async () => {
    const { handler } = await coldStart(world, { clusters });
    const before = sendCalls().length;
    world.sim.faults.failNext('ssm', 'SendCommand', 'ThrottlingException', 2);

    const result = await invoke(world, handler, { cluster: 'web' });

    const calls = sendCalls().slice(before);
    expect(calls.filter((c) => c.error === 'ThrottlingException')).toHaveLength(2);
    expect(calls.filter((c) => !c.error)).toHaveLength(3);
    expect(result.clusters[0].commands).toHaveLength(3);
    expect(invocationsOf(webFleet).every((n) => n === 1)).toBe(true);
  });

  it('a SendCommand that fails for good releases its marks: the async retry sends that batch, and only it', async () => {
    const { handler } = await coldStart(world, { clusters });
    // Earlier tests' commands fall out of ListCommands' InvokedAfter window.
    await world.sim.clock.advance(5 * 60_000);
    const before = sendCalls().length;
    const counts = () => invocationsOf(webFleet);
    const already = counts();
    // Not retried by the client (it may have been applied), and ListCommands finds no such command.
    world.sim.faults.failNext('ssm', 'SendCommand', 'InternalServerError', 1);
    const event = { cluster: 'web' };

    await expect(invoke(world, handler, event)).rejects.toThrow(/SendCommand failed for (\d+) instances of cluster web \(1 of 3 batches\)/);
    const afterFirst = counts().map((n, i) => n - already[i]!);
    expect(afterFirst.filter((n) => n === 0).length).toBeGreaterThan(0);
    expect(world.sim.calls.slice(before).filter((c) => c.op === 'ListCommands')).toHaveLength(1);

    const retry = await invoke(world, handler, event);
    expect(retry.clusters[0].commands).toHaveLength(1);
    expect(counts().map((n, i) => n - already[i]!)).toEqual(webFleet.map(() => 1));
  });

  it('a SendCommand answered with an error after SSM created the command is kept as sent: the retry sends nothing', async () => {
    const { handler } = await coldStart(world, { clusters });
    const already = invocationsOf(webFleet);
    world.sim.faults.failNext('ssm', 'SendCommand', 'InternalServerError', 1, { afterApply: true });
    const event = { cluster: 'web' };

    const first = await invoke(world, handler, event);
    expect(first.clusters[0].commands).toHaveLength(3);
    const retry = await invoke(world, handler, event);
    expect(retry.clusters[0].commands).toHaveLength(0);
    expect(invocationsOf(webFleet).map((n, i) => n - already[i]!)).toEqual(webFleet.map(() => 1));
  });
});

describe('cleanup handler: report collector', () => {
  it('collects each final invocation once: good reports give the metrics, bad output is recorded, Undeliverable and Failed count apart', async () => {
    // Every instance runs at once and no error stops the command, so that each outcome shows up.
    const { handler } = await coldStart(world, { clusters, cleanup: { maxConcurrency: '100%', maxErrors: '100%' } });
    // Let the commands of earlier tests run out first: only this run's events reach the subscriber.
    await world.sim.clock.advance(3 * 3600_000);
    const metric = vi.spyOn(Metrics.prototype, 'addMetric');
    const dimensions = vi.spyOn(Metrics.prototype, 'addDimensions');
    const [good, garbage, truncated, undeliverable, lowSpace, cut, failedNoLine, locked] = batchFleet;
    const { ssm } = world;
    ssm.setResult(good!, { stdout: `${reportLine({ instance: good! })}\n`, exitCode: 0 });
    ssm.setResult(garbage!, { stdout: 'bash: line 1: syntax error\n', exitCode: 0 });
    ssm.setResult(truncated!, {
      stdout: `${JSON.stringify({ v: 1, instance: truncated, exitCode: 12, status: 'cleanup-errors', errorCount: 40, truncated: true })}\n`,
      exitCode: 12,
    });
    ssm.setResult(undeliverable!, { status: 'Undeliverable' });
    ssm.setResult(lowSpace!, { stdout: reportLine({ exitCode: 13, status: 'low-space', freePercentAfter: 4, freeBytesAfter: 1_000_000_000 }), exitCode: 13 });
    ssm.setResult(cut!, { stdout: `${'x'.repeat(23_990)}\n{"v":1,"instance":"i-0`, exitCode: 0 });
    ssm.setResult(failedNoLine!, { stdout: '', exitCode: 2 });
    ssm.setResult(locked!, { stdout: reportLine({ exitCode: 14, status: 'locked' }), exitCode: 14 });
    const collected: any[] = [];
    const unsubscribe = world.sim.bus.subscribePattern('cleanup-reports', commandInvocationPattern(DOCUMENT), async (event) => {
      collected.push(await invoke(world, handler, event));
    });
    try {
      const run = await invoke(world, handler, { cluster: 'batch', instanceIds: batchFleet.slice(0, 8) });
      expect(run.clusters[0].commands).toHaveLength(1);
      await world.sim.clock.advance(10 * 60_000);
      await world.sim.bus.drain();
    } finally {
      unsubscribe();
      for (const id of batchFleet) ssm.setResult(id, { exitCode: 0 });
    }

    expect(world.sim.bus.failures.filter((f) => f.subscriber === 'cleanup-reports')).toEqual([]);
    const byInstance = new Map(collected.map((r) => [r.instanceId, r]));
    expect(byInstance.size).toBe(8);
    const outcome = (id: string) => [byInstance.get(id)?.classification.outcome, byInstance.get(id)?.classification.reason];
    expect(outcome(good!)).toEqual(['succeeded', 'ok']);
    expect(outcome(garbage!)).toEqual(['succeeded', 'ok']);
    expect(outcome(truncated!)).toEqual(['failed', 'cleanup-errors']);
    expect(outcome(undeliverable!)).toEqual(['undeliverable', 'Undeliverable']);
    expect(outcome(lowSpace!)).toEqual(['failed', 'low-space']);
    expect(outcome(cut!)).toEqual(['succeeded', 'ok']);
    expect(outcome(failedNoLine!)).toEqual(['failed', 'usage']);
    expect(outcome(locked!)).toEqual(['skipped', 'locked']);
    expect(byInstance.get(cut!).classification.output.why).toMatch(/24000-character limit/);
    expect(byInstance.get(good!).cluster).toBe('batch');

    const published = (name: string) => metric.mock.calls.filter(([n]) => n === name).map(([, , v]) => v);
    expect(published('ReclaimedBytes')).toEqual([12_000_000_000, 12_000_000_000, 12_000_000_000]);
    expect(published('ContainersRemoved')).toEqual([37, 37, 37]);
    expect(published('VolumesRemoved')).toEqual([5, 5, 5]);
    expect(published('FreeBytesAfter').sort()).toEqual([1_000_000_000, 52_000_000_000, 52_000_000_000]);
    expect(published('TrimmedBytes')).toEqual([0, 0, 0]);
    expect(published('CleanupSucceeded')).toHaveLength(3);
    expect(published('CleanupFailed')).toHaveLength(3);
    expect(published('CleanupUndeliverable')).toHaveLength(1);
    expect(published('CleanupSkipped')).toHaveLength(1);
    expect(published('LowSpaceAfterCleanup')).toHaveLength(1);
    expect(published('ReportUnparseable')).toHaveLength(3);
    expect(published('ReportTruncated')).toHaveLength(1);
    expect(dimensions.mock.calls).toEqual(expect.arrayContaining([[{ Cluster: 'batch' }], [{ InstanceId: good }]]));

    // EventBridge delivers at least once: a second copy publishes nothing.
    const metricsBefore = metric.mock.calls.length;
    const commandId = byInstance.get(good!).commandId;
    const again = await invoke(world, handler, statusChange('dup', commandId, good!, 'Success'));
    expect(again).toEqual({ outcome: 'duplicate', commandId, instanceId: good });
    expect(metric.mock.calls.length).toBe(metricsBefore);
  });

  it('reads the cluster from the Comment when the command has no record, and never crashes on an early event', async () => {
    const { handler } = await coldStart(world, { clusters });
    const [one] = jobsFleet;
    // A command sent by hand (or whose record write failed): only its Comment says which cluster.
    const command = world.ssm.sendCommand(
      { DocumentName: DOCUMENT, InstanceIds: [one], Comment: 'ecs-caretaker cleanup, manual, c=jobs #0123abcd' },
      world.sim.clock.now(),
    );
    const event = (status: string) => statusChange(`e-${status}`, command.commandId, one!, status);
    // The event raced ahead of the API: the invocation still looks Pending, nothing is published.
    expect(await invoke(world, handler, event('Success'))).toMatchObject({ outcome: 'not-final', status: 'Pending' });
    await world.sim.clock.advance(60_000);
    expect(await invoke(world, handler, event('Success'))).toMatchObject({ outcome: 'collected', cluster: 'jobs' });
  });
});
