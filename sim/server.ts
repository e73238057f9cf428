import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WireReply, WireRequest } from './protocols/index.ts';

async function readRequest(req: IncomingMessage): Promise<WireRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return { method: req.method ?? 'POST', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/**
 * An HTTP server on 127.0.0.1 and an ephemeral port; every request goes to
 * `handle`. `now` dates the replies (the Date header); without it Node dates
 * them with the wall clock.
 */
export async function listen(
  handle: (req: WireRequest) => Promise<WireReply>,
  opts: { now?: () => number } = {},
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    readRequest(req)
      .then(handle)
      .then((reply) => {
        const date = opts.now ? { date: new Date(opts.now()).toUTCString() } : {};
        res.writeHead(reply.status, { ...reply.headers, ...date, 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
      })
      .catch((error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error?.stack ?? error));
      });
  });
  return { endpoint: await listenLocal(server), close: () => closeServer(server) };
}

/** Starts `server` on 127.0.0.1 and an ephemeral port; resolves to its http:// endpoint. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** SDK clients keep connections alive; without closing them the server (and vitest) would wait for their idle timeout. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
