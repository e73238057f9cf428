/**
 * Recognising what started the cleanup function, with plain data: the real
 * alarm payloads (renamed into our prefix where they must be accepted), the
 * schedule and direct inputs, Cleanup Requested and the Run Command events.
 */
import { describe, expect, it } from 'vitest';
import { parseCleanupInput, type InputSettings } from '../../functions/cleanup/input.ts';
import { loadAwsEvent } from '../support/fixtures.ts';
import { ALARM_PREFIX, DOCUMENT } from './world.ts';

const settings: InputSettings = { clusters: ['prod', 'batch'], dryRun: false, alarmNamePrefix: ALARM_PREFIX, documentName: DOCUMENT };
const parse = (payload: unknown) => parseCleanupInput(payload, settings);

function renamed(file: string, name = `${ALARM_PREFIX}-disk`) {
  const event = loadAwsEvent(file);
  if (event.detail) event.detail.alarmName = name;
  else event.alarmData.alarmName = name;
  return event;
}

describe('parseCleanupInput: alarms', () => {
  it('a single-metric alarm on an EC2 instance targets that instance in any configured cluster', () => {
    expect(parse(renamed('cloudwatch-alarm-state-change-single-metric-docs.json'))).toEqual({
      kind: 'run',
      trigger: { kind: 'alarm', detail: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh' },
      scopes: [{ kind: 'instances', instanceIds: ['i-12345678901234567'], clusters: undefined }],
      dryRun: false,
    });
  });

  it('metric-math and anomaly-detection alarms are read through their metricStat rows', () => {
    for (const file of ['cloudwatch-alarm-state-change-metric-math-docs.json', 'cloudwatch-alarm-state-change-anomaly-detection-docs.json']) {
      expect(parse(renamed(file)), file).toMatchObject({ kind: 'run', scopes: [{ kind: 'instances', instanceIds: ['i-12345678901234567'] }] });
    }
    const spread = renamed('cloudwatch-alarm-state-change-metric-math-docs.json');
    spread.detail.configuration.metrics[2].metricStat.metric.dimensions.InstanceId = 'i-0abcdef0123456789';
    expect(parse(spread)).toMatchObject({ scopes: [{ kind: 'instances', instanceIds: ['i-12345678901234567', 'i-0abcdef0123456789'] }] });
  });

  it('a Lambda alarm action payload is read from alarmData; ClusterName alone targets the cluster', () => {
    const event = renamed('cloudwatch-alarm-lambda-action-single-metric-powertools.json');
    event.alarmData.configuration.metrics[1].metricStat.metric.dimensions = { ClusterName: 'batch' };
    expect(parse(event)).toEqual({
      kind: 'run',
      trigger: { kind: 'alarm', detail: event.alarmArn },
      scopes: [{ kind: 'cluster', cluster: 'batch' }],
      dryRun: false,
    });
    event.alarmData.configuration.metrics[1].metricStat.metric.dimensions = { ClusterName: 'batch', EC2InstanceId: 'i-0abcdef0123456789' };
    expect(parse(event)).toMatchObject({ scopes: [{ kind: 'instances', instanceIds: ['i-0abcdef0123456789'], clusters: ['batch'] }] });
  });

  it('an alarm leaving ALARM is ignored, in both forms', () => {
    const action = renamed('cloudwatch-alarm-lambda-action-single-metric-powertools.json');
    action.alarmData.state.value = 'OK';
    expect(parse(action)).toEqual({ kind: 'ignore', reason: `alarm "${ALARM_PREFIX}-disk" is OK, not ALARM` });
    const rule = renamed('cloudwatch-alarm-state-change-single-metric-docs.json');
    rule.detail.state.value = 'INSUFFICIENT_DATA';
    expect(parse(rule)).toMatchObject({ kind: 'ignore' });
  });

  it('refuses what it cannot act on, naming the field', () => {
    expect(() => parse(renamed('cloudwatch-alarm-state-change-composite-docs.json'))).toThrow(
      /detail\.configuration\.metrics: alarm ".*" is a composite alarm \(alarmRule "ALARM\(ServerCpuTooHigh\) OR ALARM\(TotalNetworkTrafficTooHigh\)"\)/,
    );
    expect(() => parse(renamed('cloudwatch-alarm-lambda-action-single-metric-powertools.json'))).toThrow(
      /alarmData\.configuration\.metrics\[\]\.metricStat\.metric\.dimensions: .*no InstanceId, EC2InstanceId or ClusterName dimension/,
    );
    expect(() => parse(loadAwsEvent('cloudwatch-alarm-state-change-single-metric-docs.json'))).toThrow(
      /detail\.alarmName: "ServerCpuTooHigh" does not start with "cc-test-cleanup"/,
    );
    const noConfig = renamed('cloudwatch-alarm-state-change-single-metric-docs.json');
    delete noConfig.detail.configuration;
    expect(() => parse(noConfig)).toThrow(/detail\.configuration: expected the alarm configuration/);
    const badDims = renamed('cloudwatch-alarm-state-change-single-metric-docs.json');
    badDims.detail.configuration.metrics[0].metricStat.metric.dimensions = [['InstanceId', 'i-12345678901234567']];
    expect(() => parse(badDims)).toThrow(/detail\.configuration\.metrics\[0\]\.metricStat\.metric\.dimensions: expected an object/);
    const noData = { source: 'aws.cloudwatch', alarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x', alarmData: 'x' };
    expect(() => parse(noData)).toThrow(/alarmData: expected an object/);
    expect(() => parse({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm Configuration Change' })).toThrow(
      /detail-type: expected "CloudWatch Alarm State Change"/,
    );
  });
});

describe('parseCleanupInput: schedule, direct invoke, requests, reports', () => {
  it('tells the schedule from a direct invoke, and lets a direct invoke choose dryRun and instances', () => {
    expect(parse({ cluster: 'prod', trigger: 'schedule' })).toEqual({
      kind: 'run',
      trigger: { kind: 'schedule', detail: 'schedule of prod' },
      scopes: [{ kind: 'cluster', cluster: 'prod' }],
      dryRun: false,
    });
    expect(parse({ cluster: 'prod', instanceIds: ['i-0abcdef0123456789', 'i-0abcdef0123456789'], dryRun: true })).toEqual({
      kind: 'run',
      trigger: { kind: 'manual', detail: 'direct invocation' },
      scopes: [{ kind: 'instances', instanceIds: ['i-0abcdef0123456789'], clusters: ['prod'] }],
      dryRun: true,
    });
    expect(parseCleanupInput({ cluster: 'prod' }, { ...settings, dryRun: true })).toMatchObject({ dryRun: true });
    expect(() => parse({ cluster: 'staging' })).toThrow('Invalid direct invocation: cluster: "staging" is not one of the configured clusters (prod, batch)');
    expect(() => parse({ cluster: 'prod', dryRun: 'yes' })).toThrow(/dryRun: Invalid input: expected boolean/);
    expect(() => parse({ cluster: 'prod', instanceIds: [] })).toThrow(/instanceIds: Too small/);
    expect(() => parse({ cluster: 'prod', force: true })).toThrow(/Unrecognized key: "force"/);
    expect(() => parse({ hello: 1 })).toThrow(/expected \{cluster, instanceIds\?, dryRun\?\}.*keys: hello/);
    expect(() => parse([])).toThrow('expected a JSON object, got an array');
  });

  it('reads a Cleanup Requested event with the shared validation', () => {
    const detail = {
      cluster: 'prod',
      containerInstanceArn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123abcd',
      ec2InstanceId: 'i-0abcdef0123456789',
      reason: 'CannotPullContainerError: devmapper: Thin Pool has 4350 free data blocks',
      requestedBy: 'stopped-watch',
    };
    const event = { source: 'ecs-caretaker', 'detail-type': 'Cleanup Requested', detail };
    expect(parse(event)).toEqual({
      kind: 'run',
      trigger: { kind: 'request', detail: `stopped-watch: ${detail.reason}` },
      scopes: [{ kind: 'container-instance', cluster: 'prod', containerInstanceArn: detail.containerInstanceArn, ec2InstanceId: detail.ec2InstanceId }],
      dryRun: false,
    });
    expect(() => parse({ ...event, detail: { ...detail, requestedBy: 'someone', ec2InstanceId: 'web-1' } })).toThrow(
      /detail\.ec2InstanceId: expected an EC2 instance id .*; detail\.requestedBy: expected "stopped-watch"/,
    );
    expect(() => parse({ ...event, 'detail-type': 'Cleanup Done' })).toThrow(/detail-type: expected "Cleanup Requested"/);
  });

  it('reads the invocation status event of our document, and refuses another document', () => {
    const event = {
      id: 'e1',
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      detail: {
        'command-id': 'c-1',
        'document-name': DOCUMENT,
        'instance-id': 'i-0abcdef0123456789',
        'requested-date-time': '2026-11-23T03:00:00.000Z',
        status: 'Success',
      },
    };
    expect(parse(event)).toEqual({ kind: 'report', commandId: 'c-1', instanceId: 'i-0abcdef0123456789', status: 'Success', eventId: 'e1' });
    expect(() => parse({ ...event, detail: { ...event.detail, 'document-name': 'AWS-RunShellScript' } })).toThrow(
      /detail\.document-name: "AWS-RunShellScript" is not the cleanup document/,
    );
    expect(() => parse({ ...event, detail: { ...event.detail, 'command-id': undefined } })).toThrow(/detail\.command-id: Invalid input: expected string/);
    expect(() => parse({ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning' })).toThrow(
      /source: "aws\.ec2" .* is not an event the cleanup function subscribes to/,
    );
  });
});
