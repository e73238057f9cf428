/**
 * A Lambda-like runtime for the E2E suite and the demo: async invocations of
 * the built bundles (or of any handler module) with a context, Lambda's two
 * async retries, a DLQ, concurrent invocations each in its own warm or cold
 * execution environment, and invocations killed as a timeout kills them.
 *
 * Time, `time: { mode: 'sim' }` (the E2E suite, the default). The functions
 * run on the simulator's clock: inside an invocation
 * `Date.now()` is the sim time and `setTimeout` is a timer on the sim clock,
 * so the SDK's backoff and adaptive rate limiting cost simulated seconds, not
 * real ones, and a 20 % throttling rate stays affordable. Whenever an
 * invocation starts or wakes up, the clock waits until every running
 * invocation is blocked again (on an HTTP answer from the simulator, or on a
 * sim timer): the world does not move while a function is computing.
 *
 * Time, `time: { mode: 'ahead', speedup }` (the demo). The caller awaits each
 * invocation (`call`), so the sim clock does not move while it runs. A timer
 * the function sets (SDK backoff, the adaptive rate limiter) fires after
 * 1/speedup of its delay in wall time, and the function's clock then reads as
 * if the whole delay had passed: its own time runs ahead of the world's until
 * the world catches up. Compute time counts as zero; there is no deadline.
 *
 * Attribution. Every HTTP request a function makes is seen through the
 * `http.client.request.start` diagnostics channel, in the async context of
 * the invocation that made it (AsyncLocalStorage), and matched to the
 * simulator's call log by the `x-amzn-requestid` of its answer.
 *
 * Kill. The armed invocation's Nth HTTP request reaches the simulator and is
 * applied, but its answer never reaches the function, nor does any later
 * answer or timer: the function's work stops right there, and Lambda reports
 * the timeout at the invocation's deadline, then retries.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import { promisify } from 'node:util';
import type { Context } from 'aws-lambda';
import type { SimClock } from './clock.ts';
import { listenLocal } from './server.ts';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** One deployed function: what a cold start loads, with which environment, and its timeout. */
export interface Deployment {
  /** How invocations name it. */
  name: string;
  /** The name in its context (`functionName`, the log group); `name` by default. */
  functionName?: string;
  timeoutMs: number;
  /** Set in process.env while the module is evaluated, as Lambda sets it before the init phase. */
  env: Record<string, string>;
  /** A new module instance on every call: a cold start. */
  load(): Promise<Handler>;
}

export interface ErrorInfo {
  name: string;
  message: string;
  /** The SDK's $metadata of an AWS error: attempts, totalRetryDelay. */
  sdk?: object;
}

export interface Invocation {
  id: number;
  /** The attempts of one async invocation (the first and its retries) share it. */
  chain: number;
  fn: string;
  event: unknown;
  /** 1 for the first attempt, 2 and 3 for Lambda's async retries. */
  attempt: number;
  /** Who invoked: a rule name, 'sns', 'schedule', 'direct', ... */
  source: string;
  /** What the invoker attached to the event (the demo: how to narrate it); the retries keep it. */
  meta?: unknown;
  coldStart: boolean;
  startedAt: number;
  deadline: number;
  endedAt?: number;
  status: 'starting' | 'running' | 'succeeded' | 'failed' | 'timed-out';
  result?: unknown;
  error?: ErrorInfo;
  /** Set when the harness killed this invocation at one of its AWS calls. */
  killedAtCall?: number;
  /** Every line the function wrote to stdout/stderr (Powertools Logger's JSON lines). */
  logs: string[];
  /** Simulator request ids of this invocation's calls, in order of their answers. */
  requestIds: string[];
  calls: number;
}

export interface DlqEntry {
  fn: string;
  event: unknown;
  error: ErrorInfo;
  attempts: Invocation[];
}

export interface KillPlan {
  /** The first invocation (0-based, in start order) that may be killed; later ones if it makes fewer calls. */
  fromInvocation: number;
  /** Killed at this AWS call (1-based, retries included): the call is applied, its answer is lost. */
  atCall: number;
  /** Only invocations of these functions are candidates. */
  functions?: string[];
}

// AWS Lambda, "Error handling and automatic retries": two retries of an async invocation,
// after one and then two minutes.
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];

interface ExecEnv {
  id: number;
  deployment: Deployment;
  handler?: Handler;
  busy: boolean;
  dead: boolean;
}

interface Live {
  inv: Invocation;
  env?: ExecEnv;
  inFlight: number;
  hung: boolean;
  timers: Set<SimTimeout>;
  cancelDeadline?: () => void;
}

interface Store {
  runtime: LambdaRuntime;
  live?: Live;
}

export type RuntimeTime = { mode: 'sim' } | { mode: 'ahead'; speedup: number };

export interface RuntimeOptions {
  /** How the functions' time passes (see the top of this file); default 'sim'. */
  time?: RuntimeTime;
  /**
   * Where the functions' SDK clients go. 'front' (default): one stable local
   * endpoint for every service, forwarded to whichever simulator is attached,
   * so that warm environments outlive a scenario. 'direct': the endpoints
   * the attached simulator gives (`sim.env()`), set while it is attached.
   */
  endpoints?: 'front' | 'direct';
  /**
   * How long invocations may stay busy (a request in flight) without the world
   * being able to move, in real time, before quiesce() gives up on them: a
   * hang detector. Default 30 s; a bench with hundreds of concurrent
   * invocations on a small machine needs more.
   */
  busyLimitMs?: number;
}

/** What attach() needs of a simulator. */
export interface AttachedSim {
  clock: SimClock;
  endpoint: string;
  env?(): Record<string, string>;
}

const als = new AsyncLocalStorage<Store>();

/**
 * What `setTimeout` returns inside an invocation: a timer on the sim clock,
 * shaped like Node's Timeout because the SDK calls its methods and turns it
 * into a number (`Number(setTimeout(...))`) to clear it later.
 */
class SimTimeout {
  static nextId = 1e12;
  static readonly byId = new Map<number, SimTimeout>();
  readonly id = SimTimeout.nextId++;
  cancel: () => void = () => undefined;
  constructor(readonly owner: Live | undefined) {
    SimTimeout.byId.set(this.id, this);
  }
  clear(): void {
    this.cancel();
    SimTimeout.byId.delete(this.id);
    this.owner?.timers.delete(this);
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  refresh() {
    return this;
  }
  close() {
    this.clear();
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.id;
  }
  [Symbol.dispose]() {
    this.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// Process-wide hooks, installed once; they act only inside an invocation's async context.

let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;

  const realNow = Date.now;
  Date.now = () => {
    const store = als.getStore();
    return store?.runtime.clock ? store.runtime.now() : realNow();
  };

  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  // `global`: globalThis.setTimeout (the SDK's backoff and rate limiter); otherwise node:timers' (middy's early timeout).
  const patchedSetTimeout = (global: boolean) => {
    const patched = function (this: unknown, fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
      const store = als.getStore();
      if (!store?.runtime.clock || typeof fn !== 'function') return realSetTimeout(fn as never, ms, ...args);
      const { time } = store.runtime;
      if (time.mode === 'sim') return store.runtime.simTimer(store, () => fn(...args), ms);
      // Ahead: only the functions' own waits run fast; middy's timeout stays a real timer, as there is no deadline.
      if (!global || typeof ms !== 'number' || !(ms > 0)) return realSetTimeout(fn as never, ms, ...args);
      const runtime = store.runtime;
      // Node runs a timer 1 ms late at least, and Date.now() counts whole milliseconds: a loop that
      // waits for a fraction of a millisecond (the rate limiter does) must still see time pass.
      const due = runtime.now() + Math.max(1, Math.ceil(ms));
      return realSetTimeout(
        (...fired: unknown[]) => {
          runtime.waitedUntil = Math.max(runtime.waitedUntil, due);
          fn(...fired);
        },
        ms / time.speedup,
        ...args,
      );
    } as unknown as typeof setTimeout;
    // timers/promises and util.promisify(setTimeout) keep working outside invocations.
    Object.defineProperty(patched, promisify.custom, { value: (realSetTimeout as unknown as Record<symbol, unknown>)[promisify.custom] });
    return patched;
  };
  const simClearTimeout = ((handle: unknown) => {
    const sim = handle instanceof SimTimeout ? handle : typeof handle === 'number' ? SimTimeout.byId.get(handle) : undefined;
    if (sim) sim.clear();
    else realClearTimeout(handle as never);
  }) as typeof clearTimeout;
  globalThis.setTimeout = patchedSetTimeout(true);
  globalThis.clearTimeout = simClearTimeout;
  // middy imports setTimeout from node:timers for its early timeout, which must run on the sim clock
  // too (and must not keep the process alive for a minute after a killed invocation).
  timers.setTimeout = patchedSetTimeout(false);
  timers.clearTimeout = simClearTimeout;
  syncBuiltinESMExports();

  // Powertools Logger writes through a Console on process.stdout/stderr: each line lands in its invocation.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      const store = als.getStore();
      if (!store) return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      const sink = store.live?.inv.logs ?? store.runtime.initLogs;
      for (const line of text.split('\n')) if (line.trim()) sink.push(line);
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    } as typeof stream.write;
  }

  dc.subscribe('http.client.request.start', (message) => {
    const store = als.getStore();
    if (store?.live) store.runtime.track(store.live, (message as { request: ClientRequest }).request);
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * A stable endpoint for the functions' clients: warm environments outlive each
 * scenario's simulator. The simulator dates its replies with the sim clock
 * (world.ts starts it with dateHeader 'sim'), as the functions run on it.
 */
async function startFront(target: () => string | undefined): Promise<{ endpoint: string; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server: Server = createServer((req, res) => {
    const base = target();
    if (!base) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('lambda runtime front: no simulator attached');
      return;
    }
    const url = new URL(base);
    const out = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
    req.pipe(out);
  });
  return {
    endpoint: await listenLocal(server),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const errorInfo = (error: unknown): ErrorInfo =>
  error instanceof Error
    ? { name: error.name, message: error.message, ...((error as { $metadata?: object }).$metadata ? { sdk: (error as { $metadata?: object }).$metadata } : {}) }
    : { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };

// Every SDK client reads these: one endpoint for every service, the front.
const SERVICES = ['ECS', 'AUTO_SCALING', 'DYNAMODB', 'SNS', 'EVENTBRIDGE', 'SSM', 'CLOUDWATCH'];

export class LambdaRuntime {
  /** The front's endpoint; undefined with `endpoints: 'direct'`. */
  readonly endpoint?: string;
  readonly time: RuntimeTime;
  clock?: SimClock;
  /** 'ahead' time: the furthest point a function's timer has reached; the sim clock takes over once it passes it. */
  waitedUntil = Number.NEGATIVE_INFINITY;
  invocations: Invocation[] = [];
  dlq: DlqEntry[] = [];
  /** Log lines written during cold starts. */
  initLogs: string[] = [];
  /** requestId of a simulator call → the invocation that made it. */
  readonly byRequestId = new Map<string, Invocation>();
  coldStarts = 0;
  /** Called as each invocation starts, before the function runs: observers snapshot the world there. */
  onStart?: (inv: Invocation) => void;
  /** Called as each attempt ends (succeeded, failed or timed out), before its retry is scheduled. */
  onEnd?: (inv: Invocation) => void;
  /** RuntimeOptions.busyLimitMs */
  busyLimitMs = 30_000;

  private readonly deployments = new Map<string, Deployment>();
  private readonly pools = new Map<string, ExecEnv[]>();
  private readonly live = new Set<Live>();
  private target?: string;
  private pendingRetries = 0;
  private chains = 0;
  private barrierPending = false;
  private kill?: KillPlan & { armed: boolean };
  private loading: Promise<unknown> = Promise.resolve();
  private readonly savedEnv: Record<string, string | undefined> = {};
  private readonly attachedEnv: Record<string, string | undefined> = {};
  /** Callers waiting for an attempt to end (call()), by invocation id. */
  private readonly waiting = new Map<number, (inv: Invocation) => void>();

  private constructor(
    private readonly front: { endpoint: string; close(): Promise<void> } | undefined,
    time: RuntimeTime,
  ) {
    this.endpoint = front?.endpoint;
    this.time = time;
  }

  static async start(options: RuntimeOptions = {}): Promise<LambdaRuntime> {
    installHooks();
    let runtime: LambdaRuntime | undefined;
    const front = options.endpoints === 'direct' ? undefined : await startFront(() => runtime?.target);
    runtime = new LambdaRuntime(front, options.time ?? { mode: 'sim' });
    runtime.busyLimitMs = options.busyLimitMs ?? runtime.busyLimitMs;
    if (front) {
      setEnv(runtime.savedEnv, {
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'e2e',
        AWS_SECRET_ACCESS_KEY: 'e2e',
        ...Object.fromEntries(SERVICES.map((s) => [`AWS_ENDPOINT_URL_${s}`, front.endpoint])),
      });
    }
    return runtime;
  }

  /** What Date.now() reads inside an invocation. */
  now(): number {
    const now = this.clock!.now();
    return this.time.mode === 'ahead' ? Math.max(now, this.waitedUntil) : now;
  }

  deploy(deployment: Deployment): void {
    this.deployments.set(deployment.name, deployment);
  }

  /** Points the functions at a new simulator for one scenario. Warm environments stay warm. */
  attach(sim: AttachedSim): void {
    if (this.live.size) throw new Error('lambda runtime: invocations still running from the previous scenario');
    this.clock = sim.clock;
    this.target = sim.endpoint;
    if (!this.front) setEnv(this.attachedEnv, sim.env?.() ?? {});
    this.waitedUntil = Number.NEGATIVE_INFINITY;
    this.invocations = [];
    this.dlq = [];
    this.byRequestId.clear();
    this.pendingRetries = 0;
    this.chains = 0;
    this.barrierPending = false;
    this.kill = undefined;
    this.onStart = undefined;
    this.onEnd = undefined;
  }

  detach(): void {
    // Hung (killed) invocations never settle; their environments are dead already.
    this.live.clear();
    this.waiting.clear();
    this.clock = undefined;
    this.target = undefined;
    restoreEnv(this.attachedEnv);
  }

  armKill(plan: KillPlan): void {
    this.kill = { ...plan, armed: true };
  }

  /** The kill plan has fired. */
  get killed(): Invocation | undefined {
    return this.invocations.find((i) => i.killedAtCall !== undefined);
  }

  /** No invocation running and no retry waiting. */
  settled(): boolean {
    return this.pendingRetries === 0 && this.live.size === 0;
  }

  /** Lambda's asynchronous invocation (InvocationType Event): accepted now, run now, retried on error. */
  invoke(fn: string, event: unknown, source = 'direct', meta?: unknown): void {
    this.start(fn, event, source, 1, this.chains++, meta);
  }

  /**
   * The same asynchronous invocation, for a caller that waits for it (the
   * demo, in 'ahead' time): resolves when the first attempt ends. A retry
   * runs on the sim clock, which waits for it too.
   */
  call(fn: string, event: unknown, source = 'direct', meta?: unknown): Promise<Invocation> {
    return this.attempt(fn, event, source, 1, this.chains++, meta);
  }

  /** A cold start now, so that the first invocation finds a warm environment. */
  async prewarm(fn: string): Promise<void> {
    const deployment = this.deployments.get(fn);
    if (!deployment) throw new Error(`lambda runtime: no deployment "${fn}"`);
    const env = await this.coldStart(deployment);
    env.busy = false;
  }

  private attempt(fn: string, event: unknown, source: string, attempt: number, chain: number, meta: unknown): Promise<Invocation> {
    return new Promise((resolve) => this.waiting.set(this.start(fn, event, source, attempt, chain, meta).id, resolve));
  }

  private start(fn: string, event: unknown, source: string, attempt: number, chain: number, meta: unknown): Invocation {
    const deployment = this.deployments.get(fn);
    const clock = this.clock;
    if (!deployment || !clock) throw new Error(`lambda runtime: no deployment "${fn}" or no simulator attached`);
    const now = this.now();
    const inv: Invocation = {
      id: this.invocations.length,
      chain,
      fn,
      event: structuredClone(event),
      attempt,
      source,
      ...(meta === undefined ? {} : { meta }),
      coldStart: false,
      startedAt: now,
      deadline: now + deployment.timeoutMs,
      status: 'starting',
      logs: [],
      requestIds: [],
      calls: 0,
    };
    this.invocations.push(inv);
    this.onStart?.(inv);
    const live: Live = { inv, inFlight: 0, hung: false, timers: new Set() };
    this.live.add(live);
    if (this.time.mode === 'sim') live.cancelDeadline = clock.at(inv.deadline, () => this.timeout(live));
    void this.run(live, deployment);
    if (this.time.mode === 'sim') this.barrier();
    return inv;
  }

  private async run(live: Live, deployment: Deployment): Promise<void> {
    const { inv } = live;
    let env: ExecEnv;
    try {
      env = await this.acquire(deployment, inv);
    } catch (error) {
      // An init error fails the invocation like a handler error (and is retried like one).
      this.finish(live, undefined, error);
      return;
    }
    live.env = env;
    if (live.hung) return;
    inv.status = 'running';
    const context = this.context(live, deployment);
    const promise = als.run({ runtime: this, live }, () => env.handler!(structuredClone(inv.event), context));
    promise.then(
      (result) => this.finish(live, result, undefined),
      (error) => this.finish(live, undefined, error),
    );
  }

  private context(live: Live, deployment: Deployment): Context {
    return lambdaContext(deployment.functionName ?? deployment.name, {
      logStreamName: `e2e/[$LATEST]${live.env?.id ?? 0}`,
      remainingMs: () => (live.hung || !this.clock ? 0 : Math.max(0, live.inv.deadline - this.now())),
    });
  }

  /** A warm idle environment of this function, or a cold start. */
  private async acquire(deployment: Deployment, inv: Invocation): Promise<ExecEnv> {
    const pool = this.pools.get(deployment.name) ?? [];
    this.pools.set(deployment.name, pool);
    const warm = pool.find((e) => !e.busy && !e.dead);
    if (warm) {
      warm.busy = true;
      return warm;
    }
    inv.coldStart = true;
    return this.coldStart(deployment);
  }

  /** A new execution environment of the function, busy, its module loaded with the function's environment. */
  private async coldStart(deployment: Deployment): Promise<ExecEnv> {
    const pool = this.pools.get(deployment.name) ?? [];
    this.pools.set(deployment.name, pool);
    const env: ExecEnv = { id: ++this.coldStarts, deployment, busy: true, dead: false };
    pool.push(env);
    // One init at a time: each needs process.env set to its own function's environment.
    const load = this.loading.then(async () => {
      const saved: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(deployment.env)) {
        saved[key] = process.env[key];
        process.env[key] = value;
      }
      try {
        env.handler = await als.run({ runtime: this }, () => deployment.load());
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
    this.loading = load.catch(() => undefined);
    try {
      await load;
    } catch (error) {
      env.dead = true;
      throw error;
    }
    return env;
  }

  private finish(live: Live, result: unknown, error: unknown): void {
    const { inv } = live;
    if (live.hung || inv.endedAt !== undefined) return;
    live.cancelDeadline?.();
    for (const timer of [...live.timers]) timer.clear();
    inv.endedAt = this.clock?.now() ?? inv.startedAt;
    if (live.env) live.env.busy = false;
    if (error === undefined) {
      inv.status = 'succeeded';
      inv.result = result;
    } else {
      inv.status = 'failed';
      inv.error = errorInfo(error);
    }
    this.live.delete(live);
    this.afterAttempt(inv);
  }

  /** The deadline: a running invocation is stopped where it is and reported as timed out. */
  private timeout(live: Live): void {
    const { inv } = live;
    if (inv.endedAt !== undefined) return;
    this.hang(live);
    inv.status = 'timed-out';
    inv.endedAt = this.clock?.now() ?? inv.deadline;
    inv.error = { name: 'Sandbox.Timedout', message: `Task timed out after ${((inv.deadline - inv.startedAt) / 1000).toFixed(2)} seconds` };
    this.live.delete(live);
    this.afterAttempt(inv);
  }

  /** From now on nothing reaches the invocation: no answer, no timer. Its environment is not reused (Lambda resets it). */
  private hang(live: Live): void {
    live.hung = true;
    for (const timer of [...live.timers]) timer.clear();
    if (live.env) live.env.dead = true;
  }

  private afterAttempt(inv: Invocation): void {
    this.onEnd?.(inv);
    const waiting = this.waiting.get(inv.id);
    this.waiting.delete(inv.id);
    if (inv.status !== 'succeeded') this.retryOrDeadLetter(inv);
    waiting?.(inv);
  }

  private retryOrDeadLetter(inv: Invocation): void {
    const clock = this.clock!;
    const delay = ASYNC_RETRY_DELAYS_MS[inv.attempt - 1];
    if (delay !== undefined) {
      this.pendingRetries++;
      clock.at(inv.endedAt! + delay, () => {
        this.pendingRetries--;
        // Ahead: the clock waits for the retry, as the caller waited for the first attempt.
        if (this.time.mode === 'ahead') return this.attempt(inv.fn, inv.event, inv.source, inv.attempt + 1, inv.chain, inv.meta).then(() => undefined);
        this.start(inv.fn, inv.event, inv.source, inv.attempt + 1, inv.chain, inv.meta);
      });
      return;
    }
    this.dlq.push({ fn: inv.fn, event: inv.event, error: inv.error!, attempts: this.invocations.filter((i) => i.chain === inv.chain) });
  }

  // ---- hooks called from the process-wide instrumentation -----------------------------------

  simTimer(store: Store, fn: () => void, ms: number | undefined): SimTimeout {
    const clock = this.clock!;
    const live = store.live;
    const timer = new SimTimeout(live);
    live?.timers.add(timer);
    // As Node does: below 1 ms is 1 ms, and a timer fires on a whole millisecond. A rate limiter
    // that waits a fraction of a millisecond must see the time move, or it spins for ever.
    const delay = Math.max(1, Math.ceil(Number(ms) || 0));
    timer.cancel = clock.at(Math.floor(clock.now()) + delay, async () => {
      SimTimeout.byId.delete(timer.id);
      live?.timers.delete(timer);
      if (live?.hung) return;
      als.run(store, fn);
      await this.quiesce();
    });
    return timer;
  }

  track(live: Live, request: ClientRequest): void {
    const inv = live.inv;
    const call = ++inv.calls;
    if (live.hung) {
      request.destroy();
      swallow(request);
      return;
    }
    live.inFlight++;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      live.inFlight--;
    };
    const emit = request.emit;
    const runtime = this;
    request.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'response') {
        const response = args[0] as IncomingMessage;
        const requestId = response.headers['x-amzn-requestid'];
        if (typeof requestId === 'string') {
          inv.requestIds.push(requestId);
          runtime.byRequestId.set(requestId, inv);
        }
        if (!live.hung && runtime.shouldKill(inv, call)) {
          inv.killedAtCall = call;
          runtime.hang(live);
        }
        if (live.hung) {
          response.resume();
          response.once('end', done);
          response.once('close', done);
          return true;
        }
      }
      if (event === 'close') done();
      if (live.hung && event !== 'close' && event !== 'socket' && event !== 'finish' && event !== 'prefinish') return true;
      return emit.call(this, event, ...args);
    } as typeof request.emit;
  }

  private shouldKill(inv: Invocation, call: number): boolean {
    const plan = this.kill;
    if (!plan?.armed || inv.id < plan.fromInvocation || (plan.functions && !plan.functions.includes(inv.fn))) return false;
    if (call < plan.atCall) return false;
    plan.armed = false;
    return true;
  }

  // ---- letting the world wait for the functions ------------------------------------------------

  /** Once per sim instant at which an invocation started or woke up: the clock waits there for every invocation to block. */
  private barrier(): void {
    if (this.barrierPending || !this.clock) return;
    this.barrierPending = true;
    this.clock.at(this.clock.now(), async () => {
      this.barrierPending = false;
      await this.quiesce();
    });
  }

  private running(): Live[] {
    return [...this.live].filter((l) => !l.hung && l.inv.endedAt === undefined && (l.inv.status === 'starting' || l.inFlight > 0));
  }

  /**
   * Resolves when no invocation can make progress without the clock: each is
   * done, killed, or has no request in flight (it waits on a sim timer). Two
   * quiet turns of the event loop in a row, so that answers already received
   * have run their continuations.
   */
  async quiesce(): Promise<void> {
    const startedAt = performance.now();
    for (let quiet = 0; quiet < 2; ) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.running().length === 0) quiet++;
      else quiet = 0;
      if (performance.now() - startedAt > this.busyLimitMs) {
        const stuck = this.running().map((l) => `#${l.inv.id} ${l.inv.fn} ${l.inv.status} inFlight=${l.inFlight} calls=${l.inv.calls}`);
        throw new Error(`lambda runtime: invocations made no progress for ${this.busyLimitMs / 1000} s of real time: ${stuck.join(', ')}`);
      }
    }
  }

  async close(): Promise<void> {
    this.detach();
    restoreEnv(this.savedEnv);
    await this.front?.close();
  }
}

/** A Lambda context as the runtime hands it to a handler: enough for Powertools and for the functions' remaining-time checks. */
export function lambdaContext(functionName: string, opts: { remainingMs: () => number; logStreamName: string }): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: opts.logStreamName,
    getRemainingTimeInMillis: opts.remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The context of a handler called directly (unit and integration tests): `timeoutMs` from now on Date.now()'s clock. */
export function fakeContext(functionName = 'test-fn', timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return lambdaContext(functionName, { logStreamName: '2026/11/23/[$LATEST]test', remainingMs: () => Math.max(0, deadline - Date.now()) });
}

/** Sets `values` in process.env, remembering in `saved` what they replaced (the first time only). */
function setEnv(saved: Record<string, string | undefined>, values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in saved)) saved[key] = process.env[key];
    process.env[key] = value;
  }
}

function restoreEnv(saved: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
    delete saved[key];
  }
}

function swallow(request: ClientRequest): void {
  const emit = request.emit;
  request.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'response') {
      (args[0] as IncomingMessage).resume();
      return true;
    }
    if (event === 'error' || event === 'timeout' || event === 'abort') return true;
    return emit.call(this, event, ...args);
  } as typeof request.emit;
}
