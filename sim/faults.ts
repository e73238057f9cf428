import { SimError } from './errors.ts';
import { chance, type Random } from './random.ts';

/** Random faults on API calls. Probabilities are per attempt, drawn from the seeded stream. */
export interface ApiFaultRules {
  throttle?: number;
  serverError?: number;
  /** Real (wall-clock) delay before answering, to exercise client timeouts. */
  latencyMs?: number;
  /** Only these services / operations; all when absent. */
  services?: string[];
  ops?: string[];
}

/** Delivery faults EventBridge is documented to have: at-least-once, unordered. */
export interface EventFaultRules {
  /** Probability that a delivery is duplicated; the copies are 2..maxCopies. */
  duplicate?: number;
  maxCopies?: number;
  /** Each copy is delayed by up to this much more, so later events can overtake it. */
  reorderWindowMs?: number;
  /** Probability that a delivery never happens. */
  lose?: number;
}

export interface FailNextOptions {
  /** Apply the operation, then answer with the error: the "did my call happen?" case retries must survive. */
  afterApply?: boolean;
  message?: string;
}

/**
 * A window of simulated time in which every call to a service fails: a
 * regional outage or a table throttled hard for minutes, which the random
 * per-call faults never produce.
 */
export interface OutageWindow {
  service: string;
  /** sim epoch ms, inclusive */
  from: number;
  /** sim epoch ms, exclusive */
  to: number;
  /** 'throttle' (ThrottlingException, 400, the default) or 'server' (the service's 5xx). */
  kind?: 'throttle' | 'server';
}

/** What the dispatcher does with one attempt. */
export interface FaultDecision {
  latencyMs: number;
  error?: SimError;
  afterApply: boolean;
}

export interface Faults {
  set(rules: ApiFaultRules): void;
  failNext(service: string, op: string, code?: string, times?: number, options?: FailNextOptions): void;
  events(rules: EventFaultRules): void;
  readonly eventRules: Readonly<EventFaultRules>;
  /** Adds an outage window; windows stay until clear(). */
  outage(window: OutageWindow): void;
  readonly outages: readonly OutageWindow[];
  clear(): void;
  /** Consumed by the dispatcher once per attempt; `now` (sim epoch ms) places it against the outage windows. */
  decide(service: string, op: string, serverErrorCode: string, now?: number): FaultDecision;
}

interface Queued {
  service: string;
  op: string;
  code: string;
  remaining: number;
  options: FailNextOptions;
}

// What the real services say; the SDK only looks at the code and status.
const THROTTLE_MESSAGE = 'Rate exceeded';
const SERVER_MESSAGE = 'We encountered an internal error. Please try again.';

/** 5xx codes are retried by the SDK as transient; ThrottlingException is retried by name at 400 (@smithy service-error-classification). */
function statusFor(code: string): number {
  if (code === 'ServiceUnavailable' || code === 'ServiceUnavailableException') return 503;
  if (/^(ServerException|InternalFailure|InternalError|InternalServerError|InternalServerException)$/.test(code)) return 500;
  return 400;
}

export function createFaults(random: Random): Faults {
  let rules: ApiFaultRules = {};
  let eventRules: EventFaultRules = {};
  let queued: Queued[] = [];
  let outages: OutageWindow[] = [];

  const applies = (service: string, op: string) => (!rules.services || rules.services.includes(service)) && (!rules.ops || rules.ops.includes(op));

  return {
    set(next) {
      rules = { ...next };
    },
    failNext(service, op, code = 'ThrottlingException', times = 1, options = {}) {
      queued.push({ service, op, code, remaining: times, options });
    },
    events(next) {
      eventRules = { ...next };
    },
    get eventRules() {
      return eventRules;
    },
    outage(window) {
      if (!(window.from < window.to)) throw new Error(`sim: outage window of ${window.service} must end after it starts`);
      outages.push({ ...window });
    },
    get outages() {
      return outages;
    },
    clear() {
      rules = {};
      eventRules = {};
      queued = [];
      outages = [];
    },
    decide(service, op, serverErrorCode, now) {
      const down = now === undefined ? undefined : outages.find((w) => w.service === service && w.from <= now && now < w.to);
      if (down) {
        return down.kind === 'server'
          ? { latencyMs: 0, error: new SimError(serverErrorCode, SERVER_MESSAGE, statusFor(serverErrorCode)), afterApply: false }
          : { latencyMs: 0, error: new SimError('ThrottlingException', THROTTLE_MESSAGE, 400), afterApply: false };
      }
      const scripted = queued.find((q) => q.service === service && q.op === op);
      if (scripted) {
        if (--scripted.remaining <= 0) queued = queued.filter((q) => q !== scripted);
        const message = scripted.options.message ?? (scripted.code === 'ThrottlingException' ? THROTTLE_MESSAGE : SERVER_MESSAGE);
        return { latencyMs: 0, error: new SimError(scripted.code, message, statusFor(scripted.code)), afterApply: !!scripted.options.afterApply };
      }
      if (!applies(service, op)) return { latencyMs: 0, afterApply: false };
      const latencyMs = rules.latencyMs ?? 0;
      if (chance(random, rules.throttle)) return { latencyMs, error: new SimError('ThrottlingException', THROTTLE_MESSAGE, 400), afterApply: false };
      if (chance(random, rules.serverError)) return { latencyMs, error: new SimError(serverErrorCode, SERVER_MESSAGE, 500), afterApply: false };
      return { latencyMs, afterApply: false };
    },
  };
}
