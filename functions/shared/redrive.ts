/**
 * `ecs-caretaker redrive`: sends the events parked in a function's DLQ back
 * to the function. The SQS console's redrive (StartMessageMoveTask) only
 * moves messages to another queue, never to a Lambda function, and a DLQ of
 * this stack holds several formats, so each message is read here, its
 * original event rebuilt, and the function invoked with it. A message is
 * deleted only after the function ran it without error.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** What a DLQ message turned out to be, and the event to invoke the function with. */
export type DeadLetter =
  | { kind: 'lambda-destination'; event: unknown; functionArn: string; why: string }
  | { kind: 'eventbridge-target'; event: unknown; source: string; why: string }
  | { kind: 'scheduler-target'; event: unknown; source: string; why: string }
  | { kind: 'sns-subscription'; event: unknown; source: string; why: string }
  | { kind: 'unreadable'; why: string };

type Attributes = Message['MessageAttributes'];
const attribute = (attributes: Attributes, name: string): string | undefined => attributes?.[name]?.StringValue;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads one DLQ message. The formats, as the AWS guides describe them:
 * - Lambda on-failure destination ("Capturing records of Lambda asynchronous
 *   invocations"): a JSON invocation record whose `requestPayload` is the
 *   original event, `requestContext` names the function and the condition
 *   (RetriesExhausted, EventAgeExceeded), `responsePayload` the last error.
 * - EventBridge rule target DLQ ("Using dead-letter queues to process
 *   undelivered events"): the event itself as the body; RULE_ARN,
 *   TARGET_ARN, ERROR_CODE and ERROR_MESSAGE as message attributes.
 * - EventBridge Scheduler DLQ ("Configuring a dead-letter queue for a
 *   schedule"): the target's input as the body, the schedule and the
 *   execution in message attributes (SCHEDULE_ARN, EXECUTION_ID, ERROR_CODE).
 * - SNS subscription DLQ ("Amazon SNS dead-letter queues"): the notification
 *   as SNS would have delivered it, which is rebuilt into the Lambda SNS event.
 */
export function readDeadLetter(message: Pick<Message, 'Body' | 'MessageAttributes'>): DeadLetter {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch (error) {
    return { kind: 'unreadable', why: `body is not JSON: ${(error as Error).message}` };
  }
  const attributes = message.MessageAttributes;
  const errorOf = () => [attribute(attributes, 'ERROR_CODE'), attribute(attributes, 'ERROR_MESSAGE')].filter(Boolean).join(': ') || 'no error given';

  if (isObject(body) && isObject(body.requestContext) && 'requestPayload' in body) {
    const { functionArn, condition } = body.requestContext;
    if (typeof functionArn !== 'string') return { kind: 'unreadable', why: 'Lambda destination record without requestContext.functionArn' };
    const error = isObject(body.responsePayload)
      ? `${body.responsePayload.errorType ?? 'Error'}: ${body.responsePayload.errorMessage ?? ''}`
      : 'no error payload';
    return { kind: 'lambda-destination', event: body.requestPayload, functionArn, why: `${condition ?? 'failed'} (${error})` };
  }
  if (isObject(body) && body.Type === 'Notification' && typeof body.TopicArn === 'string' && typeof body.Message === 'string') {
    return { kind: 'sns-subscription', event: snsEvent(body), source: body.TopicArn, why: 'SNS could not deliver it' };
  }
  const schedule = attribute(attributes, 'SCHEDULE_ARN');
  if (schedule || attribute(attributes, 'EXECUTION_ID'))
    return { kind: 'scheduler-target', event: body, source: schedule ?? 'unknown schedule', why: errorOf() };
  const rule = attribute(attributes, 'RULE_ARN');
  if (rule) return { kind: 'eventbridge-target', event: body, source: rule, why: errorOf() };
  return { kind: 'unreadable', why: 'neither a Lambda destination record, nor an SNS notification, nor a message with RULE_ARN or SCHEDULE_ARN attributes' };
}

/** The event Lambda receives from an SNS subscription, for one notification (Lambda developer guide, "Using Lambda with Amazon SNS"). */
function snsEvent(notification: Record<string, unknown>): unknown {
  const { Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, MessageAttributes } =
    notification;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${TopicArn}:redrive`,
        Sns: {
          Type,
          MessageId,
          TopicArn,
          Subject: Subject ?? null,
          Message,
          Timestamp,
          SignatureVersion,
          Signature,
          SigningCertUrl: SigningCertURL,
          UnsubscribeUrl: UnsubscribeURL,
          MessageAttributes: MessageAttributes ?? {},
        },
      },
    ],
  };
}

export interface RedriveTarget {
  queueUrl: string;
  /** the function's name or ARN */
  functionName: string;
}

export interface RedriveOptions {
  dryRun: boolean;
  /** stop after this many messages */
  max: number;
  /** long enough for the slowest invocation, so that no message is received twice in one run */
  visibilityTimeoutSeconds: number;
  log: (line: string) => void;
}

export interface RedriveCounts {
  received: number;
  redriven: number;
  failed: number;
  unreadable: number;
  foreign: number;
  /** dry run: messages that would have been redriven */
  wouldRedrive: number;
  byKind: Record<string, number>;
}

const functionNameOf = (nameOrArn: string): string => (nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn);

/**
 * Drains the queue once: receives until a receive comes back empty or `max`
 * messages were seen. A message that fails stays invisible for the
 * visibility timeout, so one run never retries it; a dry run makes every
 * message it read visible again when it ends.
 */
export async function redrive(clients: { sqs: SQSClient; lambda: LambdaClient }, target: RedriveTarget, options: RedriveOptions): Promise<RedriveCounts> {
  const { sqs, lambda } = clients;
  const counts: RedriveCounts = { received: 0, redriven: 0, failed: 0, unreadable: 0, foreign: 0, wouldRedrive: 0, byKind: {} };
  const wanted = functionNameOf(target.functionName);
  const toRelease: string[] = [];
  while (counts.received < options.max) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.queueUrl,
        // ReceiveMessage returns at most 10 messages (SQS API reference, MaxNumberOfMessages).
        MaxNumberOfMessages: Math.min(10, options.max - counts.received),
        VisibilityTimeout: options.visibilityTimeoutSeconds,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    if (messages.length === 0) break;
    for (const message of messages) {
      counts.received++;
      const letter = readDeadLetter(message);
      counts.byKind[letter.kind] = (counts.byKind[letter.kind] ?? 0) + 1;
      const where = `message ${message.MessageId}`;
      // A dry run leaves the queue as it found it, unreadable messages included.
      if (options.dryRun && message.ReceiptHandle) toRelease.push(message.ReceiptHandle);
      if (letter.kind === 'unreadable') {
        counts.unreadable++;
        options.log(`${where}: kept, cannot redrive it: ${letter.why}`);
        continue;
      }
      if (letter.kind === 'lambda-destination' && functionNameOf(letter.functionArn) !== wanted) {
        counts.foreign++;
        options.log(`${where}: kept, it is a failed invocation of ${letter.functionArn}, not of ${wanted}`);
        continue;
      }
      const from = letter.kind === 'lambda-destination' ? letter.functionArn : letter.source;
      if (options.dryRun) {
        counts.wouldRedrive++;
        options.log(`${where}: would redrive (${letter.kind} from ${from}; ${letter.why})`);
        continue;
      }
      const outcome = await invoke(lambda, target.functionName, letter.event);
      if (outcome.ok) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: target.queueUrl, ReceiptHandle: message.ReceiptHandle }));
        counts.redriven++;
        options.log(`${where}: redriven and deleted (${letter.kind} from ${from})`);
      } else {
        counts.failed++;
        options.log(`${where}: kept, the function failed again: ${outcome.error}`);
      }
    }
  }
  // Only now: released during the run, the messages would be received again and again.
  for (const handle of toRelease) {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: target.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
  }
  return counts;
}

/** A synchronous invoke: only a run that ends without a function error lets the message go. */
async function invoke(lambda: LambdaClient, functionName: string, event: unknown): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    const reply = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (!reply.FunctionError) return { ok: true };
    const payload = reply.Payload ? Buffer.from(reply.Payload).toString('utf8') : '';
    let message = payload;
    try {
      const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
      message = `${parsed.errorType ?? reply.FunctionError}: ${parsed.errorMessage ?? ''}`;
    } catch {
      // not JSON: the raw payload says it
    }
    return { ok: false, error: message.slice(0, 500) };
  } catch (error) {
    return { ok: false, error: `Invoke failed: ${(error as Error).name}: ${(error as Error).message}` };
  }
}
