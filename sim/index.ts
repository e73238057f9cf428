import { createClock, type SimClock } from './clock.ts';
import { createDispatcher, endpointEnvName, type CallRecord, type ServiceDef } from './dispatcher.ts';
import { startDynamo } from './dynamo.ts';
import { ecsService } from './ecs-api.ts';
import { EcsSim } from './ecs.ts';
import { EventBus, type PatternMatcher } from './events.ts';
import { createFaults, type Faults } from './faults.ts';
import { randomStreams } from './random.ts';
import { listen } from './server.ts';
import { createThrottle, type Throttle } from './throttle.ts';

export type { SimClock } from './clock.ts';
export type { CallContext, CallRecord, OperationHandler, ServiceDef } from './dispatcher.ts';
export { createTable, startDynamo } from './dynamo.ts';
export { ECS_TIMING, EcsSim } from './ecs.ts';
export type * from './ecs-types.ts';
export { SimError } from './errors.ts';
export { EventBus, type AwsEvent, type Delivery, type EventHandler } from './events.ts';
export type { ApiFaultRules, EventFaultRules, FailNextOptions, Faults, OutageWindow } from './faults.ts';
export { ECS_RATE_LIMITS, ecsBucketOf } from './ecs-limits.ts';
export { sharedBucket, type RateLimits, type Throttle, type TokenBucket } from './throttle.ts';

export interface SimOptions {
  /** Simulated start time; default: now, to the second. */
  start?: Date;
  /** Seeds faults, event delivery and ids; same seed, same run. Default 1. */
  seed?: number;
  region?: string;
  account?: string;
  /**
   * Which clock dates the replies (the HTTP Date header). The SDK compares it
   * with its own Date.now() and, more than 5 minutes apart, treats an error
   * reply as clock skew and retries it, even a ConditionalCheckFailedException.
   * 'sim' when the callers run on the simulated clock (npm start, the E2E
   * runtime); 'wall' (default) when they run on the real one.
   */
  dateHeader?: 'wall' | 'sim';
}

export interface Sim {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  region: string;
  account: string;
  /** Endpoint env vars for every registered service and DynamoDB, region and fake credentials. */
  env(): Record<string, string>;
  clock: SimClock;
  ecs: EcsSim;
  faults: Faults;
  /** Per-service token buckets on the sim clock (none until `throttle.limit(...)`): `throttle.limit('ecs', ECS_RATE_LIMITS)`. */
  throttle: Throttle;
  bus: EventBus;
  dynamo: { endpoint: string };
  /** Every HTTP attempt, retries included. */
  calls: CallRecord[];
  countCalls(service: string, op?: string): number;
  register(def: ServiceDef): void;
  /** A registered service by its short name, e.g. to add operations to 'ecs' from another module. */
  service(name: string): ServiceDef | undefined;
  close(): Promise<void>;
}

/** functions/shared/event-pattern.ts is optional for the sim: without it only bus.subscribePattern is unavailable. */
async function loadPatternMatcher(): Promise<PatternMatcher | undefined> {
  const url = new URL('../functions/shared/event-pattern.ts', import.meta.url).href;
  try {
    return ((await import(/* @vite-ignore */ url)) as { matchesPattern?: PatternMatcher }).matchesPattern;
  } catch {
    return undefined;
  }
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const region = opts.region ?? 'eu-west-1';
  const account = opts.account ?? '123456789012';
  const random = randomStreams(opts.seed ?? 1);
  const clock = createClock(opts.start ?? new Date(Math.floor(Date.now() / 1000) * 1000));
  const faults = createFaults(random.api);
  const bus = new EventBus({ clock, faults, random: random.events, ids: random.ids, region, account, matchPattern: await loadPatternMatcher() });
  const ecs = new EcsSim({ clock, bus, ids: random.ids, region, account });
  const calls: CallRecord[] = [];
  const throttle = createThrottle(clock);
  const dispatcher = createDispatcher({ clock, faults, calls, throttle });
  dispatcher.register(ecsService(ecs));

  const server = await listen(dispatcher.handle, opts.dateHeader === 'sim' ? { now: clock.now } : {});
  const dynamo = await startDynamo().catch(async (error) => {
    await server.close();
    throw error;
  });

  return {
    endpoint: server.endpoint,
    region,
    account,
    env: () => ({
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'sim',
      AWS_SECRET_ACCESS_KEY: 'sim',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      ...Object.fromEntries(dispatcher.services().map((def) => [endpointEnvName(def.sdkServiceId), server.endpoint])),
    }),
    clock,
    ecs,
    faults,
    throttle,
    bus,
    dynamo: { endpoint: dynamo.endpoint },
    calls,
    countCalls: (service, op) => calls.filter((c) => c.service === service && (op === undefined || c.op === op)).length,
    register: dispatcher.register,
    service: (name) => dispatcher.services().find((def) => def.name === name),
    close: async () => {
      await Promise.all([server.close(), dynamo.close()]);
    },
  };
}
