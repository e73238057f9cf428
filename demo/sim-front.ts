/**
 * What the bundles talk to instead of the simulator's own endpoint: the same
 * replies, with the Date header in simulated time. The simulator's HTTP server
 * stamps replies with the wall-clock date while the handlers live in simulated
 * time; the SDK reads that gap as clock skew on every error reply, corrects its
 * offset and marks the error retryable, so a ConditionalCheckFailedException
 * would be retried up to maxAttempts (and, with throttling on, end as a
 * ThrottlingException that fails the invocation). AWS dates its replies with
 * its own clock, which is the handlers' clock here.
 */
import type { Sim } from '../sim/index.ts';
import type { WireRequest } from '../sim/protocols/index.ts';
import { listen } from '../sim/server.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'host']);

export async function startSimFront(sim: Sim): Promise<{ endpoint: string; env(): Record<string, string>; close(): Promise<void> }> {
  const front = await listen(async (req: WireRequest) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const reply = await fetch(`${sim.endpoint}${req.path}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body });
    const out: Record<string, string> = {};
    reply.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) out[name] = value;
    });
    out.date = new Date(sim.clock.now()).toUTCString();
    return { status: reply.status, headers: out, body: await reply.text() };
  });
  return {
    endpoint: front.endpoint,
    // Every endpoint the simulator serves itself goes through the front; dynalite's own, if any, stays.
    env: () => Object.fromEntries(Object.entries(sim.env()).map(([name, value]) => [name, value === sim.endpoint ? front.endpoint : value])),
    close: front.close,
  };
}
