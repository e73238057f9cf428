import type { SimClock } from './clock.ts';
import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import type { Sim } from './index.ts';
import { queryResult } from './protocols/query.ts';
import { mulberry32, uuid, type Random } from './random.ts';

/**
 * Amazon SNS over awsQuery (Version 2010-03-31), as @aws-sdk/client-sns calls
 * it: CreateTopic and Publish, with Publish's documented limits, and
 * subscribers that receive what a Lambda function subscribed to the topic
 * receives (the `Records[].Sns` event), on the simulated clock.
 *
 * Error codes are SNS's awsQuery codes (NotFound, InvalidParameter, Throttled,
 * InternalError), which the SDK turns into NotFoundException,
 * InvalidParameterException, ThrottledException and InternalErrorException.
 */

export const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** "messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes)" (SNS API reference, Publish). */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/** "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long." */
export const SNS_SUBJECT_MAX = 99;
/** "Amazon SNS supports up to 10 message attributes" per message (SNS developer guide, message attributes). */
export const SNS_MESSAGE_ATTRIBUTES_MAX = 10;
/** Topic names: up to 256 letters, digits, hyphens and underscores (CreateTopic). */
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

export interface SnsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface PublishedMessage {
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  attributes: Record<string, SnsMessageAttribute>;
  /** sim epoch ms */
  at: number;
}

export type SnsLambdaEvent = { Records: Array<{ EventSource: 'aws:sns'; EventVersion: '1.0'; EventSubscriptionArn: string; Sns: Record<string, unknown> }> };
export type SnsSubscriber = (event: SnsLambdaEvent) => unknown | Promise<unknown>;

interface Topic {
  arn: string;
  subscribers: Array<{ arn: string; handler: SnsSubscriber }>;
}

const invalid = (what: string) => new SimError('InvalidParameter', `Invalid parameter: ${what}`);

export class SnsSim {
  /** Every message accepted by Publish, in order. */
  readonly published: PublishedMessage[] = [];
  /** Lambda-style deliveries whose subscriber threw. */
  readonly deliveryFailures: Array<{ subscription: string; messageId: string; error: unknown }> = [];
  /** Delivery delay of a notification to a subscriber. */
  delayMs = 100;
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly deps: { clock: SimClock; ids: Random; region: string; account: string }) {}

  topicArn(name: string): string {
    return `arn:aws:sns:${this.deps.region}:${this.deps.account}:${name}`;
  }

  /** Creates the topic (idempotent, as CreateTopic is) and returns its ARN. */
  createTopic(name: string): string {
    if (!TOPIC_NAME.test(name)) throw invalid('Topic Name');
    const arn = this.topicArn(name);
    if (!this.topics.has(arn)) this.topics.set(arn, { arn, subscribers: [] });
    return arn;
  }

  /** A Lambda-like subscriber: each message reaches `handler` as `{ Records: [{ Sns }] }`, after `delayMs` on the clock. */
  subscribe(topicArn: string, handler: SnsSubscriber): string {
    const topic = this.requireTopic(topicArn);
    const arn = `${topicArn}:${uuid(this.deps.ids)}`;
    topic.subscribers.push({ arn, handler });
    return arn;
  }

  messages(topicArn?: string): PublishedMessage[] {
    return topicArn === undefined ? [...this.published] : this.published.filter((m) => m.topicArn === topicArn);
  }

  private requireTopic(arn: unknown): Topic {
    const topic = typeof arn === 'string' ? this.topics.get(arn) : undefined;
    if (!topic) throw new SimError('NotFound', 'Topic does not exist', 404);
    return topic;
  }

  publish(input: Record<string, any>, now: number): PublishedMessage {
    if (input.TopicArn === undefined && (input.TargetArn !== undefined || input.PhoneNumber !== undefined)) {
      throw invalid('the simulator only publishes to topics (TopicArn)');
    }
    const topic = this.requireTopic(input.TopicArn);
    const message: unknown = input.Message;
    if (typeof message !== 'string' || message.length === 0) throw invalid('Empty message');
    if (Buffer.byteLength(message, 'utf8') > SNS_MESSAGE_MAX_BYTES) throw invalid('Message too long');
    const subject: unknown = input.Subject;
    if (subject !== undefined) {
      // SNS Publish API reference: a Subject is UTF-8 text "with no line breaks or control characters", under 100 characters.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters SNS refuses are what this matches.
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > SNS_SUBJECT_MAX || /[\u0000-\u001f\u007f]/.test(subject))
        throw invalid('Subject');
    }
    if (input.MessageStructure !== undefined) throw invalid('the simulator does not implement MessageStructure');
    const published: PublishedMessage = {
      topicArn: topic.arn,
      messageId: uuid(this.deps.ids),
      subject: subject as string | undefined,
      message,
      attributes: decodeAttributes(input.MessageAttributes),
      at: now,
    };
    this.published.push(published);
    for (const subscriber of topic.subscribers) {
      this.deps.clock.after(this.delayMs, async () => {
        try {
          await subscriber.handler(this.lambdaEvent(published, subscriber.arn));
        } catch (error) {
          this.deliveryFailures.push({ subscription: subscriber.arn, messageId: published.messageId, error });
        }
      });
    }
    return published;
  }

  /** The event Lambda receives from an SNS subscription (Lambda developer guide, "Using Lambda with Amazon SNS"). */
  lambdaEvent(m: PublishedMessage, subscriptionArn: string): SnsLambdaEvent {
    return {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: subscriptionArn,
          Sns: {
            Type: 'Notification',
            MessageId: m.messageId,
            TopicArn: m.topicArn,
            Subject: m.subject ?? null,
            Message: m.message,
            Timestamp: new Date(m.at).toISOString(),
            SignatureVersion: '1',
            Signature: 'SIMULATED',
            SigningCertUrl: `https://sns.${this.deps.region}.amazonaws.com/SimpleNotificationService-simulated.pem`,
            UnsubscribeUrl: `https://sns.${this.deps.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
            MessageAttributes: Object.fromEntries(
              Object.entries(m.attributes).map(([name, a]) => [name, { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue }]),
            ),
          },
        },
      ],
    };
  }

  service(): ServiceDef {
    return {
      name: 'sns',
      sdkServiceId: 'SNS',
      protocol: 'awsQuery',
      version: '2010-03-31',
      serverErrorCode: 'InternalError',
      operations: {
        CreateTopic: (input) => queryResult('CreateTopic', SNS_NAMESPACE, { TopicArn: this.createTopic(String(input.Name ?? '')) }),
        Publish: (input, ctx) => queryResult('Publish', SNS_NAMESPACE, { MessageId: this.publish(input, ctx.now).messageId }),
      },
    };
  }
}

/** awsQuery serialises a map as `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue`. */
function decodeAttributes(raw: unknown): Record<string, SnsMessageAttribute> {
  if (raw === undefined) return {};
  const entries = (raw as { entry?: Record<string, { Name?: string; Value?: SnsMessageAttribute }> }).entry;
  if (typeof entries !== 'object' || entries === null) throw invalid('MessageAttributes');
  const out: Record<string, SnsMessageAttribute> = {};
  for (const entry of Object.values(entries)) {
    const name = entry?.Name;
    const value = entry?.Value;
    if (!name || !value?.DataType) throw invalid(`Message attribute ${name ?? '(unnamed)'} must have a name and a DataType`);
    if (!/^(String|Number|Binary)(\..+)?$/.test(value.DataType))
      throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    if (value.StringValue === undefined && value.BinaryValue === undefined)
      throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${value.DataType}'.`);
    out[name] = value;
  }
  if (Object.keys(out).length > SNS_MESSAGE_ATTRIBUTES_MAX) throw invalid(`Too many message attributes (at most ${SNS_MESSAGE_ATTRIBUTES_MAX})`);
  return out;
}

/** Registers SNS with the simulator; its endpoint then appears in sim.env() as AWS_ENDPOINT_URL_SNS. */
export function installSns(sim: Sim, opts: { seed?: number } = {}): SnsSim {
  const sns = new SnsSim({ clock: sim.clock, ids: mulberry32(opts.seed ?? 0x534e53), region: sim.region, account: sim.account });
  sim.register(sns.service());
  return sns;
}
