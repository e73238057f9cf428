import type { SimClock } from './clock.ts';
import type { Faults } from './faults.ts';
import { chance, uuid, type Random } from './random.ts';

/** The EventBridge envelope, as in test/fixtures/aws-events. */
export interface AwsEvent<Detail = any> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Detail;
}

export type EventHandler = (event: AwsEvent) => unknown | Promise<unknown>;
export type PatternMatcher = (pattern: any, event: unknown) => boolean;

export interface Delivery {
  subscriber: string;
  event: AwsEvent;
  /** 1 for the first copy; higher for duplicates injected by faults.events */
  copy: number;
  /** sim epoch ms */
  at: number;
  result?: unknown;
  error?: unknown;
}

interface Subscription {
  name: string;
  match: (event: AwsEvent) => boolean;
  handler: EventHandler;
}

interface Pending {
  sub: Subscription;
  event: AwsEvent;
  copy: number;
  dueAt: number;
  seq: number;
}

// EventBridge's own timestamps have whole seconds: "2020-03-16T15:37:04Z".
const eventTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A stand-in for the default event bus and its rules: matching happens when an
 * event is put, delivery after a delay on the simulated clock, so tests see
 * handlers run only when they advance time (or drain).
 */
export class EventBus {
  /** Every event put on the bus, delivered or not. */
  readonly emitted: AwsEvent[] = [];
  /** Every handler invocation, in the order it happened. */
  readonly delivered: Delivery[] = [];
  /** The invocations whose handler threw or rejected. */
  readonly failures: Delivery[] = [];
  /** Deliveries dropped by faults.events({ lose }). */
  readonly lost: Array<{ subscriber: string; event: AwsEvent; at: number }> = [];
  /** Base delivery delay. Without faults every delivery waits the same, so events arrive in the order they were put. */
  delayMs = 1000;

  private readonly subs = new Map<string, Subscription>();
  private readonly queue: Pending[] = [];
  private seq = 0;

  constructor(
    private readonly deps: {
      clock: SimClock;
      faults: Faults;
      /** drives delivery faults */
      random: Random;
      /** event ids */
      ids: Random;
      region: string;
      account: string;
      matchPattern?: PatternMatcher;
    },
  ) {}

  /** Returns an unsubscribe function. */
  subscribe(name: string, match: (event: AwsEvent) => boolean, handler: EventHandler): () => void {
    if (this.subs.has(name)) throw new Error(`sim: an event subscriber named "${name}" already exists`);
    this.subs.set(name, { name, match, handler });
    return () => this.subs.delete(name);
  }

  /** Subscribes with an EventBridge event pattern, matched by functions/shared/event-pattern.ts. */
  subscribePattern(name: string, pattern: unknown, handler: EventHandler): () => void {
    const matchPattern = this.deps.matchPattern;
    if (!matchPattern) throw new Error('sim: subscribePattern needs functions/shared/event-pattern.ts (matchesPattern), which could not be loaded');
    return this.subscribe(name, (event) => matchPattern(pattern, event), handler);
  }

  /** Builds the envelope and puts the event. */
  emit(source: string, detailType: string, detail: unknown, resources: string[] = []): AwsEvent {
    const event = this.envelope(source, detailType, detail, resources);
    this.put(event);
    return event;
  }

  /**
   * The envelope EventBridge would put around `detail` now, in this account and
   * region, without putting it: for tests that hand-craft events (strays,
   * malformed ones) and name them by `id`.
   */
  envelope(source: string, detailType: string, detail: unknown, resources: string[] = [], id: string = uuid(this.deps.ids)): AwsEvent {
    return {
      version: '0',
      id,
      'detail-type': detailType,
      source,
      account: this.deps.account,
      time: eventTime(this.deps.clock.now()),
      region: this.deps.region,
      resources,
      detail,
    };
  }

  put(event: AwsEvent): void {
    this.emitted.push(event);
    for (const sub of this.subs.values()) if (sub.match(event)) this.route(sub, event);
  }

  /** Delivers everything pending now, in due order, without moving the clock; includes deliveries the handlers cause. */
  async drain(maxDeliveries = 10_000): Promise<void> {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n >= maxDeliveries) throw new Error(`sim: bus.drain delivered ${maxDeliveries} events and more keep coming: a handler loop?`);
      const next = this.queue.reduce((a, b) => (b.dueAt < a.dueAt || (b.dueAt === a.dueAt && b.seq < a.seq) ? b : a));
      await this.deliver(next);
    }
  }

  pending(): number {
    return this.queue.length;
  }

  private route(sub: Subscription, event: AwsEvent): void {
    const { clock, random, faults } = this.deps;
    const rules = faults.eventRules;
    if (chance(random, rules.lose)) {
      this.lost.push({ subscriber: sub.name, event, at: clock.now() });
      return;
    }
    const maxCopies = Math.max(2, rules.maxCopies ?? 3);
    const copies = chance(random, rules.duplicate) ? 2 + Math.floor(random() * (maxCopies - 1)) : 1;
    for (let copy = 1; copy <= copies; copy++) {
      const jitter = rules.reorderWindowMs ? Math.floor(random() * rules.reorderWindowMs) : 0;
      const pending: Pending = { sub, event, copy, dueAt: clock.now() + this.delayMs + jitter, seq: this.seq++ };
      this.queue.push(pending);
      clock.at(pending.dueAt, () => this.deliver(pending));
    }
  }

  private async deliver(pending: Pending): Promise<void> {
    const i = this.queue.indexOf(pending);
    if (i < 0) return; // already delivered by drain()
    this.queue.splice(i, 1);
    const delivery: Delivery = { subscriber: pending.sub.name, event: pending.event, copy: pending.copy, at: this.deps.clock.now() };
    this.delivered.push(delivery);
    try {
      // Each target gets its own copy, as each Lambda invocation parses its own payload.
      delivery.result = await pending.sub.handler(structuredClone(pending.event));
    } catch (error) {
      delivery.error = error;
      this.failures.push(delivery);
    }
  }
}
