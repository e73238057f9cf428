import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimClock } from './clock.ts';
import { isSimError, SimError } from './errors.ts';
import type { Faults } from './faults.ts';
import type { Throttle } from './throttle.ts';
import { codecs, type ProtocolCodec, type ProtocolName, type WireReply, type WireRequest } from './protocols/index.ts';

export interface CallContext {
  service: string;
  op: string;
  requestId: string;
  /** sim epoch ms when the call arrived */
  now: number;
  /** The SDK's attempt number for this call (amz-sdk-request header), when it sends one. */
  attempt?: number;
}

export type OperationHandler = (input: any, ctx: CallContext) => unknown | Promise<unknown>;

export interface ServiceDef {
  /** Short name used by faults, calls and countCalls, e.g. 'ecs'. */
  name: string;
  /** The SDK's serviceId ('ECS', 'Auto Scaling'): the client reads AWS_ENDPOINT_URL_<ID in upper snake case>. */
  sdkServiceId: string;
  protocol: ProtocolName;
  /** JSON protocols: the x-amz-target prefix, e.g. AmazonEC2ContainerServiceV20141113. */
  target?: string;
  /** awsQuery: the API Version, e.g. 2011-01-01. */
  version?: string;
  /** What a random 5xx fault is called for this service (ECS: ServerException). */
  serverErrorCode?: string;
  operations: Record<string, OperationHandler>;
}

export interface CallRecord {
  service: string;
  op: string;
  input: any;
  /** sim epoch ms */
  at: number;
  requestId: string;
  attempt?: number;
  /** The error code answered, if any. */
  error?: string;
  /** A handler crash (a simulator bug, answered as InternalFailure), kept for the test to show. */
  bug?: unknown;
}

export const endpointEnvName = (sdkServiceId: string): string =>
  `AWS_ENDPOINT_URL_${sdkServiceId
    .split(' ')
    .map((w) => w.toUpperCase())
    .join('_')}`;

const routeKey = (protocol: ProtocolName, key: string) => `${protocol} ${key}`;

function attemptOf(req: WireRequest): number | undefined {
  const match = /attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''));
  return match ? Number(match[1]) : undefined;
}

export function createDispatcher(deps: { clock: SimClock; faults: Faults; calls: CallRecord[]; throttle?: Throttle }) {
  const byRoute = new Map<string, ServiceDef>();
  const fallback = codecs.awsJson1_1!;

  function register(def: ServiceDef): void {
    if (!codecs[def.protocol]) throw new Error(`sim: no codec for protocol ${def.protocol} yet (see sim/protocols/index.ts)`);
    const key = def.protocol === 'awsQuery' ? def.version : def.target;
    if (!key) throw new Error(`sim: service ${def.name} needs ${def.protocol === 'awsQuery' ? 'version' : 'target'}`);
    const route = routeKey(def.protocol, key);
    if (byRoute.has(route)) throw new Error(`sim: a service is already registered for ${route}`);
    byRoute.set(route, def);
  }

  function find(req: WireRequest): { codec: ProtocolCodec; def?: ServiceDef; op: string } | undefined {
    for (const codec of Object.values(codecs)) {
      const route = codec?.route(req);
      if (codec && route) return { codec, def: byRoute.get(routeKey(codec.name, route.serviceKey)), op: route.op };
    }
    return undefined;
  }

  async function handle(req: WireRequest): Promise<WireReply> {
    const requestId = randomUUID();
    const found = find(req);
    if (!found?.def) return fallback.encodeError(new SimError('UnknownOperationException', 'The simulator has no service for this request'), requestId);
    const { codec, def, op } = found;
    const handler = def.operations[op];
    if (!handler) return codec.encodeError(new SimError('UnknownOperationException', `The simulator does not implement ${def.name}.${op}`), requestId);

    const call: CallRecord = { service: def.name, op, input: undefined, at: deps.clock.now(), requestId, attempt: attemptOf(req) };
    deps.calls.push(call);
    const fail = (error: SimError) => {
      call.error = error.code;
      return codec.encodeError(error, requestId);
    };

    try {
      call.input = codec.decode(req);
    } catch (error) {
      return fail(isSimError(error) ? error : new SimError('SerializationException', String(error)));
    }

    // The service's own rate limits come before any injected fault: a throttled call never reaches the service.
    if (deps.throttle && !deps.throttle.take(def.name, op)) return fail(new SimError('ThrottlingException', 'Rate exceeded', 400));
    const fault = deps.faults.decide(def.name, op, def.serverErrorCode ?? 'InternalFailure', call.at);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.error && !fault.afterApply) return fail(fault.error);

    let output: unknown;
    try {
      output = await handler(call.input, { service: def.name, op, requestId, now: call.at, attempt: call.attempt });
    } catch (error) {
      if (isSimError(error)) return fail(error);
      // Not a modelled AWS error: answer 500 so the caller fails loudly rather than retrying into a hang.
      call.error = 'InternalFailure';
      call.bug = error;
      return codec.encodeError(new SimError('InternalFailure', `sim bug in ${def.name}.${op}: ${(error as Error)?.stack ?? error}`, 500), requestId);
    }
    if (fault.error) return fail(fault.error);
    return codec.encodeResult(output, requestId);
  }

  return { register, handle, services: () => [...byRoute.values()] };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
