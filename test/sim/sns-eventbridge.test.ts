/**
 * sim/sns.ts and sim/eventbridge.ts against the real @aws-sdk/client-sns and
 * client-eventbridge, reaching the simulator through AWS_ENDPOINT_URL_SNS /
 * AWS_ENDPOINT_URL_EVENTBRIDGE as a Lambda bundle would.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, InvalidParameterException, NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installEventBridge, type EventBridgeSim } from '../../sim/eventbridge.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { installSns, type SnsSim } from '../../sim/sns.ts';

let sim: Sim;
let sns: SnsSim;
let eventBridge: EventBridgeSim;
let snsClient: SNSClient;
let eventsClient: EventBridgeClient;
const saved = { ...process.env };

beforeAll(async () => {
  sim = await startSim({ start: new Date('2026-11-23T10:00:00Z') });
  sns = installSns(sim);
  eventBridge = installEventBridge(sim);
  // The clients find the simulator the way the deployed functions would find AWS: from the environment.
  Object.assign(process.env, sim.env());
  snsClient = new SNSClient({ maxAttempts: 3 });
  eventsClient = new EventBridgeClient({ maxAttempts: 3 });
});
afterAll(async () => {
  snsClient?.destroy();
  eventsClient?.destroy();
  process.env = saved;
  await sim?.close();
});
beforeEach(() => sim.faults.clear());

describe('SNS in the simulator', () => {
  it('is reachable through AWS_ENDPOINT_URL_SNS', () => {
    expect(sim.env().AWS_ENDPOINT_URL_SNS).toBe(sim.endpoint);
  });

  it('CreateTopic and Publish answer as SNS does, and keep subject, message and attributes', async () => {
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'ops-alerts' }));
    expect(TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:ops-alerts');
    const out = await snsClient.send(
      new PublishCommand({
        TopicArn,
        Subject: 'ECS HIGH: Out of memory - prod/web',
        Message: 'line 1\nline 2 & <tags> "quoted"\n✓ unicode',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' }, count: { DataType: 'Number', StringValue: '3' } },
      }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sns.messages(TopicArn).at(-1)).toMatchObject({
      messageId: out.MessageId,
      subject: 'ECS HIGH: Out of memory - prod/web',
      message: 'line 1\nline 2 & <tags> "quoted"\n✓ unicode',
      attributes: { severity: { DataType: 'String', StringValue: 'high' }, count: { DataType: 'Number', StringValue: '3' } },
    });
    expect(sim.calls.at(-1)).toMatchObject({ service: 'sns', op: 'Publish' });
  });

  it('refuses what SNS refuses: unknown topic, empty message, a subject of 100 characters or with a line break', async () => {
    const TopicArn = sns.createTopic('limits');
    await expect(snsClient.send(new PublishCommand({ TopicArn: `${TopicArn}-nope`, Message: 'x' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(snsClient.send(new PublishCommand({ TopicArn, Message: '' }))).rejects.toThrow('Invalid parameter: Empty message');
    await expect(snsClient.send(new PublishCommand({ TopicArn, Message: 'x', Subject: 's'.repeat(100) }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(snsClient.send(new PublishCommand({ TopicArn, Message: 'x', Subject: 'two\nlines' }))).rejects.toThrow('Invalid parameter: Subject');
    await snsClient.send(new PublishCommand({ TopicArn, Message: 'x', Subject: 's'.repeat(99) }));
    expect(sns.messages(TopicArn)).toHaveLength(1);
  });

  it('a throttled Publish is retried by the SDK and delivered once', async () => {
    const TopicArn = sns.createTopic('throttled');
    sim.faults.failNext('sns', 'Publish', 'Throttled', 2);
    await snsClient.send(new PublishCommand({ TopicArn, Message: 'once' }));
    expect(sns.messages(TopicArn)).toHaveLength(1);
    expect(
      sim.calls
        .filter((c) => c.service === 'sns' && c.op === 'Publish')
        .slice(-3)
        .map((c) => c.error),
    ).toEqual(['Throttled', 'Throttled', undefined]);
  });

  it('delivers to a Lambda-style subscriber the Records[].Sns event, on the simulated clock', async () => {
    const TopicArn = sns.createTopic('relay');
    const received: any[] = [];
    sns.subscribe(TopicArn, (event) => void received.push(event));
    await snsClient.send(new PublishCommand({ TopicArn, Message: '{"hello":"world"}', Subject: 'hi' }));
    expect(received).toEqual([]);
    await sim.clock.advance(1000);
    expect(received).toHaveLength(1);
    expect(received[0].Records[0]).toMatchObject({
      EventSource: 'aws:sns',
      Sns: { Type: 'Notification', TopicArn, Subject: 'hi', Message: '{"hello":"world"}' },
    });
  });
});

describe('EventBridge PutEvents in the simulator', () => {
  it('is reachable through AWS_ENDPOINT_URL_EVENTBRIDGE and puts accepted entries on the bus', async () => {
    expect(sim.env().AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(sim.endpoint);
    const seen: any[] = [];
    const putAt = new Date(sim.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    sim.bus.subscribePattern('cleanup-test', { source: ['ecs-caretaker'], 'detail-type': ['Cleanup Requested'] }, (event) => void seen.push(event));
    const out = await eventsClient.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'ecs-caretaker',
            DetailType: 'Cleanup Requested',
            Detail: JSON.stringify({ cluster: 'prod' }),
            Resources: ['arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc'],
          },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    await sim.bus.drain();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      version: '0',
      id: out.Entries![0]!.EventId,
      'detail-type': 'Cleanup Requested',
      source: 'ecs-caretaker',
      account: '123456789012',
      region: 'eu-west-1',
      time: putAt,
      resources: ['arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/abc'],
      detail: { cluster: 'prod' },
    });
    expect(sim.calls.at(-1)).toMatchObject({ service: 'events', op: 'PutEvents' });
  });

  it('fails bad entries one by one, as PutEvents does, and keeps the good ones', async () => {
    const before = eventBridge.accepted().length;
    const out = await eventsClient.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'ecs-caretaker', DetailType: 'X', Detail: 'not json' },
          { Source: 'aws.ecs', DetailType: 'X', Detail: '{}' },
          { Source: 'ecs-caretaker', DetailType: 'X' },
          { Source: 'ecs-caretaker', DetailType: 'X', Detail: '{"ok":true}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(3);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'NotAuthorizedForSourceException', 'InvalidArgument', 'ok']);
    expect(eventBridge.accepted().length).toBe(before + 1);
  });

  it('rejects a call with more than 10 entries, and scripts partial failures', async () => {
    const entry = { Source: 'ecs-caretaker', DetailType: 'X', Detail: '{}' };
    await expect(eventsClient.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    eventBridge.failNextEntries(1, 'ThrottlingException', 'Rate exceeded');
    const out = await eventsClient.send(new PutEventsCommand({ Entries: [entry, entry] }));
    expect(out).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }, { EventId: expect.any(String) }],
    });
  });

  it('a throttled PutEvents call is retried by the SDK and puts the event once', async () => {
    const before = eventBridge.accepted('Once').length;
    sim.faults.failNext('events', 'PutEvents', 'ThrottlingException', 2);
    await eventsClient.send(new PutEventsCommand({ Entries: [{ Source: 'ecs-caretaker', DetailType: 'Once', Detail: '{}' }] }));
    expect(eventBridge.accepted('Once').length).toBe(before + 1);
  });
});
