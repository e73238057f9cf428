import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redriveMain } from '../../functions/shared/redrive-cli.ts';
import { readDeadLetter, redrive } from '../../functions/shared/redrive.ts';
import { loadAwsEvent, repoRoot } from '../support/fixtures.ts';

const ACCOUNT = '123456789012';
const FUNCTION = 'cc-ops-prod-drain';
const QUEUE_URL = `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${FUNCTION}-dlq`;
const lifecycle = loadAwsEvent('asg-terminate-lifecycle-action-eventbridge-docs.json');
const taskStopped = loadAwsEvent('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
const instanceDraining = loadAwsEvent('ecs-container-instance-state-change-active-docs.json');

const attrs = (values: Record<string, string>): Record<string, MessageAttributeValue> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));

/** What Lambda's on-failure destination sends after the retries of an async invocation. */
const destinationRecord = (event: unknown, functionName = FUNCTION) => ({
  version: '1.0',
  timestamp: '2026-12-06T09:12:44.196Z',
  requestContext: {
    requestId: 'e4b46cbf-b738-4f5a-8880-a18cdf61200e',
    functionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${functionName}:$LATEST`,
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
  },
  requestPayload: event,
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'ThrottlingException', errorMessage: 'Rate exceeded', trace: [] },
});

const eventBridgeDeadLetter = (event: unknown): Partial<Message> => ({
  Body: JSON.stringify(event),
  MessageAttributes: attrs({
    RULE_ARN: `arn:aws:events:eu-west-1:${ACCOUNT}:rule/cc-ops-prod-drain-rule-1`,
    TARGET_ARN: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${FUNCTION}`,
    ERROR_CODE: 'THROTTLING',
    ERROR_MESSAGE: 'Rate Exceeded.',
  }),
});

const schedulerInput = {
  job: 'nightly',
  scheduledTime: '2026-12-06T01:00:00Z',
  scheduleArn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/cc-ops-prod-nightly`,
  executionId: '7a0e5b3c-2f1d-4c8e-9b6a-1d2e3f4a5b6c',
  attemptNumber: '1',
};
const schedulerDeadLetter: Partial<Message> = {
  Body: JSON.stringify(schedulerInput),
  MessageAttributes: attrs({
    SCHEDULE_ARN: schedulerInput.scheduleArn,
    EXECUTION_ID: schedulerInput.executionId,
    TARGET_ARN: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:cc-ops-prod-taskLock`,
    ERROR_CODE: 'AWS.Scheduler.TooManyRequestsException',
    ERROR_MESSAGE: 'Rate exceeded',
  }),
};

const snsNotification = {
  Type: 'Notification',
  MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
  TopicArn: 'arn:aws:sns:us-east-1:210987654321:ecs-events-relay',
  Message: JSON.stringify(taskStopped),
  Timestamp: '2026-12-06T09:10:00.000Z',
  SignatureVersion: '1',
  Signature: 'EXAMPLEpH+..',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
  UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:210987654321:ecs-events-relay:0',
};

describe('readDeadLetter', () => {
  it('takes the original event out of a Lambda destination record', () => {
    const letter = readDeadLetter({ Body: JSON.stringify(destinationRecord(taskStopped)) });
    expect(letter).toMatchObject({
      kind: 'lambda-destination',
      event: taskStopped,
      why: expect.stringContaining('RetriesExhausted (ThrottlingException: Rate exceeded)'),
    });
  });

  it('passes an EventBridge dead letter on as the event it is, naming the rule and the error', () => {
    expect(readDeadLetter(eventBridgeDeadLetter(lifecycle))).toMatchObject({
      kind: 'eventbridge-target',
      event: lifecycle,
      source: expect.stringContaining(':rule/cc-ops-prod-drain-rule-1'),
      why: 'THROTTLING: Rate Exceeded.',
    });
  });

  it('passes a Scheduler dead letter on as the schedule’s input', () => {
    expect(readDeadLetter(schedulerDeadLetter)).toMatchObject({ kind: 'scheduler-target', event: schedulerInput, source: schedulerInput.scheduleArn });
  });

  it('rebuilds the Lambda SNS event around an undelivered notification', () => {
    const letter = readDeadLetter({ Body: JSON.stringify(snsNotification) });
    expect(letter.kind).toBe('sns-subscription');
    const record = (letter as { event: any }).event.Records[0];
    expect(record).toMatchObject({
      EventSource: 'aws:sns',
      Sns: { TopicArn: snsNotification.TopicArn, Message: snsNotification.Message, SigningCertUrl: snsNotification.SigningCertURL },
    });
  });

  it('refuses what it cannot tell apart rather than guessing', () => {
    expect(readDeadLetter({ Body: 'Hello World!' })).toMatchObject({ kind: 'unreadable', why: expect.stringContaining('not JSON') });
    expect(readDeadLetter({ Body: JSON.stringify(lifecycle) })).toMatchObject({ kind: 'unreadable', why: expect.stringContaining('RULE_ARN') });
    expect(readDeadLetter({ Body: JSON.stringify({ ...destinationRecord(lifecycle), requestContext: {} }) }).kind).toBe('unreadable');
  });
});

/** A standard queue as redrive uses it: received messages hide for the visibility timeout; delete and visibility take receipt handles. */
class FakeQueue {
  private messages: Array<{ message: Message; visibleAt: number; receipts: number }> = [];
  now = 0;
  receives = 0;
  add(message: Partial<Message>): void {
    const id = `m-${this.messages.length + 1}`;
    this.messages.push({ message: { MessageId: id, ...message }, visibleAt: 0, receipts: 0 });
  }
  get ids(): string[] {
    return this.messages.map((m) => m.message.MessageId!);
  }
  receive(max: number, visibility: number): Message[] {
    this.receives++;
    const visible = this.messages.filter((m) => m.visibleAt <= this.now).slice(0, max);
    for (const m of visible) {
      m.visibleAt = this.now + visibility * 1000;
      m.receipts++;
    }
    return visible.map((m) => ({ ...m.message, ReceiptHandle: `${m.message.MessageId}#${m.receipts}` }));
  }
  private byHandle(handle: string | undefined) {
    const found = this.messages.find((m) => `${m.message.MessageId}#${m.receipts}` === handle);
    if (!found) throw new Error(`ReceiptHandleIsInvalid: ${handle}`);
    return found;
  }
  delete(handle: string | undefined): void {
    const found = this.byHandle(handle);
    this.messages = this.messages.filter((m) => m !== found);
  }
  show(handle: string | undefined): void {
    this.byHandle(handle).visibleAt = this.now;
  }
}

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
let queue: FakeQueue;
let invoked: unknown[];
const clients = () => ({ sqs: new SQSClient({ region: 'eu-west-1' }), lambda: new LambdaClient({ region: 'eu-west-1' }) });
const options = (overrides = {}) => ({ dryRun: false, max: 1000, visibilityTimeoutSeconds: 360, log: () => {}, ...overrides });
const target = { queueUrl: QUEUE_URL, functionName: FUNCTION };
const ok = { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: Buffer.from('{"ok":true}') };

beforeEach(() => {
  sqs.reset();
  lambda.reset();
  queue = new FakeQueue();
  invoked = [];
  sqs.on(ReceiveMessageCommand).callsFake((input) => {
    expect(input.MaxNumberOfMessages).toBeLessThanOrEqual(10);
    return { Messages: queue.receive(input.MaxNumberOfMessages, input.VisibilityTimeout) };
  });
  sqs.on(DeleteMessageCommand).callsFake((input) => queue.delete(input.ReceiptHandle));
  sqs.on(ChangeMessageVisibilityCommand).callsFake((input) => queue.show(input.ReceiptHandle));
  sqs.on(GetQueueUrlCommand, { QueueName: `${FUNCTION}-dlq` }).resolves({ QueueUrl: QUEUE_URL });
  lambda.on(InvokeCommand).callsFake((input) => {
    invoked.push(JSON.parse(Buffer.from(input.Payload).toString('utf8')));
    return ok;
  });
});

describe('redrive', () => {
  it('re-invokes the function with each original event, then deletes the message, across several receives', async () => {
    // 23 messages: three pages of ReceiveMessage, both formats, and the same event twice (EventBridge delivers at least once).
    for (let i = 0; i < 10; i++) queue.add({ Body: JSON.stringify(destinationRecord({ ...taskStopped, id: `task-${i}` })) });
    for (let i = 0; i < 12; i++) queue.add(eventBridgeDeadLetter({ ...lifecycle, id: `hook-${i}` }));
    queue.add(eventBridgeDeadLetter({ ...lifecycle, id: 'hook-0' }));

    const counts = await redrive(clients(), target, options());

    expect(counts).toMatchObject({ received: 23, redriven: 23, failed: 0, unreadable: 0, byKind: { 'lambda-destination': 10, 'eventbridge-target': 13 } });
    expect(queue.ids).toEqual([]);
    expect(queue.receives).toBeGreaterThanOrEqual(4);
    expect(invoked.filter((e: any) => e.id === 'hook-0')).toHaveLength(2);
    expect(invoked[0]).toEqual({ ...taskStopped, id: 'task-0' });
    for (const call of lambda.commandCalls(InvokeCommand))
      expect(call.args[0].input).toMatchObject({ FunctionName: FUNCTION, InvocationType: 'RequestResponse' });
  });

  it('keeps a message whose invocation fails again or is throttled, and does not retry it in the same run', async () => {
    queue.add(eventBridgeDeadLetter({ ...lifecycle, id: 'fails' }));
    queue.add(eventBridgeDeadLetter({ ...lifecycle, id: 'throttled' }));
    queue.add({ Body: JSON.stringify(destinationRecord(instanceDraining)) });
    lambda.on(InvokeCommand).callsFake((input) => {
      const event = JSON.parse(Buffer.from(input.Payload).toString('utf8'));
      invoked.push(event);
      if (event.id === 'fails')
        return {
          StatusCode: 200,
          FunctionError: 'Unhandled',
          Payload: Buffer.from(JSON.stringify({ errorType: 'ValidationError', errorMessage: 'No active Lifecycle Action' })),
        };
      if (event.id === 'throttled') throw new TooManyRequestsException({ message: 'Rate Exceeded.', $metadata: {} });
      return ok;
    });
    const lines: string[] = [];

    const counts = await redrive(clients(), target, options({ log: (line: string) => lines.push(line) }));

    expect(counts).toMatchObject({ received: 3, redriven: 1, failed: 2 });
    expect(queue.ids).toEqual(['m-1', 'm-2']);
    expect(invoked).toHaveLength(3);
    expect(lines).toContainEqual(expect.stringContaining('m-1: kept, the function failed again: ValidationError: No active Lifecycle Action'));
    expect(lines).toContainEqual(expect.stringContaining('m-2: kept, the function failed again: Invoke failed: TooManyRequestsException'));
  });

  it('leaves unreadable messages and failure records of another function in the queue, untouched', async () => {
    queue.add({ Body: 'Hello World!' });
    queue.add({ Body: JSON.stringify(destinationRecord(schedulerInput, 'cc-ops-prod-taskLock')) });
    queue.add(eventBridgeDeadLetter(lifecycle));

    const counts = await redrive(clients(), target, options());

    expect(counts).toMatchObject({ received: 3, redriven: 1, unreadable: 1, foreign: 1 });
    expect(queue.ids).toEqual(['m-1', 'm-2']);
    expect(invoked).toEqual([lifecycle]);
  });

  it('dry run: invokes nothing, deletes nothing, and leaves every message visible again', async () => {
    for (let i = 0; i < 14; i++) queue.add(eventBridgeDeadLetter({ ...lifecycle, id: `hook-${i}` }));
    queue.add(schedulerDeadLetter);
    queue.add({ Body: 'Hello World!' });

    const counts = await redrive(clients(), target, options({ dryRun: true }));

    expect(counts).toMatchObject({ received: 16, wouldRedrive: 15, unreadable: 1, redriven: 0 });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(queue.receive(10, 60)).toHaveLength(10);
    expect(queue.receive(10, 60)).toHaveLength(6);
  });

  it('stops after --max messages', async () => {
    for (let i = 0; i < 25; i++) queue.add(eventBridgeDeadLetter({ ...lifecycle, id: `hook-${i}` }));
    const counts = await redrive(clients(), target, options({ max: 12 }));
    expect(counts.received).toBe(12);
    expect(queue.ids).toHaveLength(13);
  });
});

describe('ecs-caretaker redrive', () => {
  const run = async (argv: string[]) => {
    let out = '';
    let err = '';
    const code = await redriveMain(argv, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: {},
      clients: clients(),
    });
    return { code, out, err };
  };

  it('looks the DLQ up by the function name, redrives it and reports counts', async () => {
    queue.add(eventBridgeDeadLetter(lifecycle));
    queue.add({ Body: JSON.stringify(destinationRecord(taskStopped)) });
    const { code, out } = await run(['--function', 'drain', '--function-name', FUNCTION]);
    expect(code).toBe(0);
    expect(out).toContain(`Redriving ${QUEUE_URL} into ${FUNCTION}`);
    expect(out).toContain('received 2 (eventbridge-target 1, lambda-destination 1); redriven 2, failed again 0; unreadable 0; other function 0');
  });

  it('names the function and its DLQ from the config’s service and the stage, as the stack does', async () => {
    queue.add(eventBridgeDeadLetter(lifecycle));
    const { code, out } = await run(['--function', 'drain', '--stage', 'prod', '--config', join(repoRoot, 'test/fixtures/caretaker-ops.config.ts')]);
    expect(code).toBe(0);
    expect(out).toContain(`Redriving ${QUEUE_URL} into cc-ops-prod-drain`);
    expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.FunctionName).toBe('cc-ops-prod-drain');
    const missing = await run(['--function', 'drain', '--config', join(repoRoot, 'test/fixtures/no-such.config.ts')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no-such.config.ts');
  });

  it('exits 1 when messages stay in the queue, 2 on a usage error that names the flag', async () => {
    queue.add({ Body: 'not an event' });
    expect((await run(['--function', 'drain', '--function-name', FUNCTION, '--dry-run'])).code).toBe(1);
    const bad = await run(['--function', 'drian', '--function-name', FUNCTION]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--function: expected one of task-lock, drain, stopped-watch, cleanup, audit, got "drian"');
    expect((await run(['--function', 'drain', '--max', '0', '--function-name', FUNCTION])).err).toContain('--max');
  });
});
