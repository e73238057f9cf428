import { randomUUID } from 'node:crypto';
import type { SimClock } from './clock.ts';
import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import type { AwsEvent, EventBus } from './events.ts';
import type { Sim } from './index.ts';
import { mulberry32, uuid, type Random } from './random.ts';

/**
 * Amazon EventBridge PutEvents over awsJson1_1 (x-amz-target
 * `AWSEvents.PutEvents`). Accepted entries become events on the simulator's
 * bus, so a function's own subscriptions (bus.subscribePattern) receive what
 * another function puts, exactly as on the default event bus.
 *
 * Like the real API, problems with one entry fail that entry only: the call
 * answers 200 with FailedEntryCount and per-entry ErrorCode/ErrorMessage.
 */

/** An EventBridge "Scheduled Event", as the schedule rule `rule` delivers it at `at` (its time to the second). */
export function scheduledEvent(where: { region: string; account: string }, rule: string, at: number, id: string = randomUUID()): AwsEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: where.account,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [`arn:aws:events:${where.region}:${where.account}:rule/${rule}`],
    detail: {},
  };
}

/** "The maximum number of entries per request is 10" (PutEvents, EventBridge API reference). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** "The maximum size for a PutEvents event entry is 256 KB" (EventBridge user guide, PutEvents entry size). */
export const PUT_EVENTS_ENTRY_MAX_BYTES = 262_144;
const DETAIL_TYPE_MAX = 128;
const SOURCE_MAX = 256;

export interface PutEventsRecord {
  /** The entry as the SDK sent it. */
  entry: Record<string, unknown>;
  /** The event put on the bus, or the error code of the entry. */
  event?: AwsEvent;
  errorCode?: string;
  /** sim epoch ms */
  at: number;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export class EventBridgeSim {
  /** Every entry received, accepted or failed, in order. */
  readonly entries: PutEventsRecord[] = [];
  private scriptedFailures: Array<{ code: string; message: string }> = [];

  constructor(private readonly deps: { clock: SimClock; bus: EventBus; ids: Random; region: string; account: string }) {}

  /** The events accepted onto the bus, optionally only one detail-type. */
  accepted(detailType?: string): AwsEvent[] {
    return this.entries.flatMap((r) => (r.event && (detailType === undefined || r.event['detail-type'] === detailType) ? [r.event] : []));
  }

  /** The next `count` entries fail with `code` (e.g. InternalFailure, ThrottlingException): PutEvents' partial failures. */
  failNextEntries(count: number, code = 'InternalFailure', message = 'Internal service error'): void {
    for (let i = 0; i < count; i++) this.scriptedFailures.push({ code, message });
  }

  private busName(input: unknown): string | undefined {
    if (input === undefined || input === 'default') return 'default';
    if (typeof input === 'string' && input === `arn:aws:events:${this.deps.region}:${this.deps.account}:event-bus/default`) return 'default';
    return undefined;
  }

  private putEntry(entry: Record<string, any>, now: number): EntryResult {
    const fail = (ErrorCode: string, ErrorMessage: string): EntryResult => {
      this.entries.push({ entry, errorCode: ErrorCode, at: now });
      return { ErrorCode, ErrorMessage };
    };
    const scripted = this.scriptedFailures.shift();
    if (scripted) return fail(scripted.code, scripted.message);
    const { Source, DetailType, Detail } = entry;
    if (typeof Source !== 'string' || typeof DetailType !== 'string' || typeof Detail !== 'string') {
      return fail('InvalidArgument', 'Parameters Source, DetailType and Detail are required.');
    }
    if (Source.length === 0 || Source.length > SOURCE_MAX) return fail('InvalidArgument', `Source must be 1 to ${SOURCE_MAX} characters.`);
    if (DetailType.length === 0 || DetailType.length > DETAIL_TYPE_MAX)
      return fail('InvalidArgument', `DetailType must be 1 to ${DETAIL_TYPE_MAX} characters.`);
    // The aws.* sources belong to AWS services.
    if (Source.startsWith('aws.')) return fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
    if (this.busName(entry.EventBusName) === undefined)
      return fail('InvalidArgument', `Event bus ${String(entry.EventBusName)} does not exist in the simulator (only the default bus).`);
    if (Buffer.byteLength(JSON.stringify(entry), 'utf8') > PUT_EVENTS_ENTRY_MAX_BYTES) return fail('InvalidArgument', 'Entry size exceeds the 256 KB limit.');
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      return fail('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return fail('MalformedDetail', 'Detail is malformed.');
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string')) return fail('InvalidArgument', 'Resources must be a list of ARNs.');
    const time = entry.Time === undefined ? now : typeof entry.Time === 'number' ? entry.Time * 1000 : Date.parse(String(entry.Time));
    const event: AwsEvent = {
      version: '0',
      id: uuid(this.deps.ids),
      'detail-type': DetailType,
      source: Source,
      account: this.deps.account,
      time: new Date(Number.isFinite(time) ? time : now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.deps.region,
      resources,
      detail,
    };
    this.entries.push({ entry, event, at: now });
    this.deps.bus.put(event);
    return { EventId: event.id };
  }

  service(): ServiceDef {
    return {
      name: 'events',
      sdkServiceId: 'EventBridge',
      protocol: 'awsJson1_1',
      target: 'AWSEvents',
      serverErrorCode: 'InternalException',
      operations: {
        PutEvents: (input, ctx) => {
          const entries: unknown = input.Entries;
          if (!Array.isArray(entries) || entries.length === 0 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
            throw new SimError(
              'ValidationException',
              `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${PUT_EVENTS_MAX_ENTRIES}`,
            );
          }
          const results = entries.map((entry) => this.putEntry(entry as Record<string, unknown>, ctx.now));
          return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
        },
      },
    };
  }
}

/** Registers EventBridge with the simulator; its endpoint then appears in sim.env() as AWS_ENDPOINT_URL_EVENTBRIDGE. */
export function installEventBridge(sim: Sim, opts: { seed?: number } = {}): EventBridgeSim {
  const eventBridge = new EventBridgeSim({ clock: sim.clock, bus: sim.bus, ids: mulberry32(opts.seed ?? 0x455654), region: sim.region, account: sim.account });
  sim.register(eventBridge.service());
  return eventBridge;
}
