/** Reading one invocation's result, with plain data: the report line, the outcome, the metrics. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { stage } from '../../functions/cleanup/metrics.ts';
import { classifyInvocation, invocationMetrics, parseReportLine, type InvocationResult } from '../../functions/cleanup/report.ts';
import { CLEANUP_EXIT_CODES } from '../../functions/cleanup/document-contract.ts';
import { reportLine } from './world.ts';

const TRUNCATED = '{"v":1,"instance":"i-00000000000000001","exitCode":12,"status":"cleanup-errors","errorCount":57,"truncated":true}';
const result = (over: Partial<InvocationResult>): InvocationResult => ({
  status: 'Success',
  statusDetails: 'Success',
  responseCode: 0,
  stdout: `${reportLine()}\n`,
  ...over,
});

describe('parseReportLine', () => {
  it('reads the last non-empty line as the report', () => {
    const parsed = parseReportLine(`some agent note\n\n${reportLine({ reclaimedBytes: 7 })}\n\n`);
    expect(parsed).toMatchObject({ kind: 'report', report: { reclaimedBytes: 7, containers: { removed: 37 } } });
  });

  it('recognises the short line the script prints when its report would not fit in 2,000 characters', () => {
    expect(parseReportLine(`${TRUNCATED}\n`)).toEqual({ kind: 'truncated', line: JSON.parse(TRUNCATED) });
  });

  it('says why a line is not a report', () => {
    expect(parseReportLine('')).toEqual({ kind: 'unparseable', why: 'no output on stdout' });
    expect(parseReportLine('\n  \n')).toEqual({ kind: 'unparseable', why: 'no output on stdout' });
    expect(parseReportLine('Segmentation fault')).toEqual({ kind: 'unparseable', why: 'the last line of stdout is not JSON: "Segmentation fault"' });
    expect(parseReportLine(`${reportLine()}\nbye`)).toMatchObject({ kind: 'unparseable', why: expect.stringContaining('not JSON') });
    expect(parseReportLine('{"v":2}')).toMatchObject({ kind: 'unparseable', why: expect.stringContaining('not a cleanup report (v:') });
    const missing = JSON.parse(reportLine());
    delete missing.containers;
    expect(parseReportLine(JSON.stringify(missing))).toMatchObject({ kind: 'unparseable', why: expect.stringContaining('containers') });
    const negative = JSON.parse(reportLine());
    negative.reclaimedBytes = -5;
    expect(parseReportLine(JSON.stringify(negative))).toMatchObject({ kind: 'unparseable' });
  });

  it('blames the 24,000-character limit of GetCommandInvocation when the line is cut there', () => {
    const cut = `${'x'.repeat(23_980)}\n${reportLine()}`.slice(0, 24_000);
    expect(parseReportLine(cut)).toEqual({ kind: 'unparseable', why: "stdout reached GetCommandInvocation's 24000-character limit and its last line is cut" });
  });
});

describe('classifyInvocation', () => {
  it('reads each exit code by its meaning', () => {
    const cases: Array<[number, string, string]> = [
      [CLEANUP_EXIT_CODES.ok, 'succeeded', 'ok'],
      [CLEANUP_EXIT_CODES.internalError, 'failed', 'internal-error'],
      [CLEANUP_EXIT_CODES.usage, 'failed', 'usage'],
      [CLEANUP_EXIT_CODES.dockerUnresponsive, 'failed', 'docker-unresponsive'],
      [CLEANUP_EXIT_CODES.introspectionUnavailable, 'failed', 'introspection-unavailable'],
      [CLEANUP_EXIT_CODES.cleanupErrors, 'failed', 'cleanup-errors'],
      [CLEANUP_EXIT_CODES.lowSpace, 'failed', 'low-space'],
      [CLEANUP_EXIT_CODES.locked, 'skipped', 'locked'],
      [143, 'failed', 'terminated'],
      [77, 'failed', 'exit-77'],
    ];
    for (const [code, outcome, reason] of cases) {
      const failed = code === 0 ? {} : { status: 'Failed', statusDetails: 'Failed', responseCode: code };
      expect(classifyInvocation(result({ ...failed, stdout: reportLine({ exitCode: code }) })), String(code)).toMatchObject({
        outcome,
        reason,
        exitCode: code,
      });
    }
  });

  it('counts undeliverable instances apart from failures, and reads no output for them', () => {
    for (const details of ['Undeliverable', 'InvalidPlatform', 'DeliveryTimedOut']) {
      expect(
        classifyInvocation(result({ status: details === 'DeliveryTimedOut' ? 'TimedOut' : 'Failed', statusDetails: details, responseCode: -1, stdout: '' })),
      ).toEqual({
        outcome: 'undeliverable',
        reason: details,
        output: { kind: 'not-run' },
      });
    }
    expect(classifyInvocation(result({ status: 'Failed', statusDetails: 'Failed', responseCode: 10, stdout: reportLine({ exitCode: 10 }) })).outcome).toBe(
      'failed',
    );
    expect(classifyInvocation(result({ status: 'Cancelled', statusDetails: 'Terminated', responseCode: -1, stdout: '' }))).toMatchObject({
      outcome: 'skipped',
      reason: 'Terminated',
    });
  });

  it('counts an execution timeout as a failure whatever the script managed to print', () => {
    expect(
      classifyInvocation(result({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1, stdout: reportLine({ exitCode: 143 }) })),
    ).toMatchObject({
      outcome: 'failed',
      reason: 'execution-timed-out',
      exitCode: 143,
    });
  });

  it('falls back on the response code when the output is not a report', () => {
    expect(classifyInvocation(result({ stdout: 'garbage' }))).toMatchObject({
      outcome: 'succeeded',
      reason: 'ok',
      exitCode: 0,
      output: { kind: 'unparseable' },
    });
    expect(classifyInvocation(result({ status: 'Failed', statusDetails: 'Failed', responseCode: 11, stdout: '' }))).toMatchObject({
      outcome: 'failed',
      reason: 'introspection-unavailable',
    });
    expect(classifyInvocation(result({ status: 'Failed', statusDetails: 'Failed', responseCode: -1, stdout: '' }))).toMatchObject({
      outcome: 'failed',
      reason: 'Failed',
    });
    expect(classifyInvocation(result({ status: 'Failed', statusDetails: 'Failed', responseCode: 12, stdout: TRUNCATED }))).toMatchObject({
      outcome: 'failed',
      reason: 'cleanup-errors',
      output: { kind: 'truncated' },
    });
  });
});

describe('invocationMetrics', () => {
  const metricsOf = (over: Partial<InvocationResult>) =>
    invocationMetrics({ cluster: 'prod', instanceId: 'i-00000000000000001', commandId: 'c-1', classification: classifyInvocation(result(over)) });
  const values = (record: ReturnType<typeof metricsOf>) => Object.fromEntries(record.values.map((v) => [v.name, v.value]));

  it('publishes the report figures of a real run, per cluster and per instance', () => {
    const record = metricsOf({});
    expect(record.dimensionSets).toEqual([{ Cluster: 'prod' }, { InstanceId: 'i-00000000000000001' }]);
    expect(values(record)).toEqual({
      CleanupSucceeded: 1,
      ReclaimedBytes: 12_000_000_000,
      TrimmedBytes: 0,
      FreeBytesAfter: 52_000_000_000,
      ContainersRemoved: 37,
      VolumesRemoved: 5,
    });
    expect(record.values.find((v) => v.name === 'ReclaimedBytes')!.unit).toBe('Bytes');
    expect(record.metadata).toEqual({ commandId: 'c-1', reason: 'ok' });
  });

  it('leaves out what the script could not measure, and publishes what a dry run would remove', () => {
    expect(values(metricsOf({ stdout: reportLine({ reclaimedBytes: null, freeBytesAfter: null, trimmedBytes: null }) }))).toEqual({
      CleanupSucceeded: 1,
      ContainersRemoved: 37,
      VolumesRemoved: 5,
    });
    const dry = reportLine({
      dryRun: true,
      containers: { removed: 0, wouldRemove: 12, skipped: 0, protected: 0, failed: 0 },
      volumes: { removed: 0, wouldRemove: 3, skipped: 0, failed: 0 },
    });
    expect(values(metricsOf({ stdout: dry }))).toEqual({ CleanupSucceeded: 1, ContainersWouldRemove: 12, VolumesWouldRemove: 3 });
  });

  it('records unparseable and truncated output, low space, and undeliverable instances', () => {
    expect(values(metricsOf({ stdout: 'garbage' }))).toEqual({ CleanupSucceeded: 1, ReportUnparseable: 1 });
    expect(values(metricsOf({ status: 'Failed', statusDetails: 'Failed', responseCode: 12, stdout: TRUNCATED }))).toEqual({
      CleanupFailed: 1,
      ReportTruncated: 1,
    });
    expect(
      values(metricsOf({ status: 'Failed', statusDetails: 'Failed', responseCode: 13, stdout: reportLine({ exitCode: 13, status: 'low-space' }) })),
    ).toMatchObject({ CleanupFailed: 1, LowSpaceAfterCleanup: 1 });
    expect(values(metricsOf({ status: 'Failed', statusDetails: 'Undeliverable', responseCode: -1, stdout: '' }))).toEqual({ CleanupUndeliverable: 1 });
  });

  it('becomes one EMF record with a Cluster and an InstanceId dimension set', () => {
    const metrics = new Metrics({ namespace: 'EcsCaretaker', serviceName: 'cleanup' });
    stage(metrics, metricsOf({}));
    const emf = metrics.serializeMetrics();
    expect(emf._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['service', 'Cluster'],
      ['service', 'InstanceId'],
    ]);
    expect(emf).toMatchObject({ service: 'cleanup', Cluster: 'prod', InstanceId: 'i-00000000000000001', ReclaimedBytes: 12_000_000_000, commandId: 'c-1' });
    expect(emf._aws.CloudWatchMetrics[0]!.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'ReclaimedBytes', Unit: 'Bytes' },
        { Name: 'CleanupSucceeded', Unit: 'Count' },
      ]),
    );
  });
});
