import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { OperationError, UserError } from '../core/errors.js';
import type { DashboardModel } from './model.js';

export interface ServerOptions {
  host: string;
  port: number;
  model: DashboardModel;
  /** Applied to every message sent to a page, after JSON encoding: known secrets never leave the process. */
  redact(text: string): string;
  /** How often changes are batched into one message per page (ms). */
  tickMs?: number;
  /** Where the bundled page lives (dist/dashboard/web). */
  webRoot?: URL;
}

export interface DashboardServer {
  readonly url: string;
  /** Pages connected right now. */
  clients(): number;
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

interface Client {
  res: ServerResponse;
  /** Set when updates were skipped for a page that fell behind: it gets a whole snapshot once it has caught up. */
  needsSnapshot: boolean;
  /** The sequence number of the last message sent (its SSE id), and the last one the page said it has drawn. */
  sent: number;
  drawn: number;
}

const ASSETS = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' } as const;
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const KEEPALIVE_MS = 15_000;
/** Bytes waiting in a page's socket beyond which it has fallen behind: skip updates until it has read them. */
const BEHIND_BYTES = 4 << 20;
/**
 * Messages a page may have been sent but not yet drawn. A browser reads its socket eagerly and queues what its
 * page has not handled yet, so a busy page never fills the socket: only its own word says how far behind it is.
 * Two seconds of ticks bound how stale the page can be before it is sent a fresh snapshot instead.
 */
const MAX_UNDRAWN = 8;

/**
 * The dashboard's HTTP server: the bundled page, and /events, a Server-Sent Events stream that sends a snapshot
 * when a page connects and then, once per tick, one message with what changed. Each message has a sequence number
 * (its SSE id) and the page posts the last one it has drawn to /ack. A page that cannot keep up (too many messages
 * not drawn, or its socket full) is not queued for: it skips updates and gets one fresh snapshot once it has caught
 * up, so memory stays flat, a slow page costs at most one snapshot per tick and what it shows is never far behind.
 */
export async function startServer(options: ServerOptions): Promise<DashboardServer> {
  const assets = await loadAssets(options.webRoot ?? new URL('./web/', import.meta.url));
  const clients = new Map<string, Client>();
  const tiles = options.model.meta.tiles ? new URL(options.model.meta.tiles).origin : undefined;
  const securityHeaders = {
    'content-security-policy': [
      "default-src 'self'",
      `img-src 'self' data:${tiles ? ` ${tiles}` : ''}`,
      "style-src 'self' 'unsafe-inline'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  let allowedHost: (header: string) => boolean = () => false;

  const snapshotMessage = () =>
    `event: snapshot\ndata: ${options.redact(JSON.stringify(options.model.snapshot()))}\n\n`;
  const send = (client: Client, message: string) => {
    client.sent++;
    client.res.write(`id: ${client.sent}\n${message}`);
  };
  /** POST /ack?client=…&seq=N: the page has drawn every message up to N. */
  const acknowledge = (params: URLSearchParams, method: string | undefined, res: ServerResponse) => {
    if (method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const client = clients.get(params.get('client') ?? '');
    const seq = Number(params.get('seq'));
    if (!client || !Number.isSafeInteger(seq) || seq < 0 || seq > client.sent) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such stream or message\n');
      return;
    }
    client.drawn = Math.max(client.drawn, seq);
    res.writeHead(204).end();
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // A page on another site must not read the dashboard through a rebound DNS name: only our own host names.
    if (!allowedHost((req.headers.host ?? '').toLowerCase())) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('unknown host\n');
      return;
    }
    const requested = new URL(req.url ?? '/', 'http://localhost');
    const path = requested.pathname;
    if (path === '/ack') {
      acknowledge(requested.searchParams, req.method, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/events') {
      res.writeHead(200, {
        ...securityHeaders,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      const id = randomUUID();
      res.write(`retry: 1000\n\nevent: hello\ndata: ${JSON.stringify({ client: id })}\n\n`);
      const client: Client = { res, needsSnapshot: false, sent: 0, drawn: 0 };
      clients.set(id, client);
      req.socket.setNoDelay(true);
      res.on('close', () => clients.delete(id));
      send(client, snapshotMessage());
      return;
    }
    const asset = assets.get(path);
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, {
      ...securityHeaders,
      'content-type': asset.type,
      'content-length': body.length,
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer(handle);
  await listen(server, options.host, options.port);
  const port = (server.address() as AddressInfo).port;
  allowedHost = hostCheck(options.host, port);
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;

  const tick = setInterval(() => {
    // Drained every tick, page or not, so changes never pile up in the model.
    const restarted = options.model.takeRestart();
    const update = options.model.drainUpdate();
    if (clients.size === 0) return;
    if (restarted) for (const client of clients.values()) client.needsSnapshot = true;
    let message: string | undefined;
    let snapshot: string | undefined;
    for (const client of clients.values()) {
      if (client.res.writableLength > BEHIND_BYTES || client.sent - client.drawn >= MAX_UNDRAWN) {
        if (update) client.needsSnapshot = true;
      } else if (client.needsSnapshot && client.drawn === client.sent) {
        // Only once the page has drawn everything sent: a snapshot queued behind stale updates would be stale too.
        client.needsSnapshot = false;
        send(client, (snapshot ??= snapshotMessage()));
      } else if (update && !client.needsSnapshot) {
        send(client, (message ??= `event: update\ndata: ${options.redact(JSON.stringify(update))}\n\n`));
      }
    }
  }, options.tickMs ?? 250);
  const keepalive = setInterval(() => {
    for (const client of clients.values()) {
      if (client.res.writableLength <= BEHIND_BYTES) client.res.write(': keepalive\n\n');
    }
  }, KEEPALIVE_MS);

  return {
    url,
    clients: () => clients.size,
    close: async () => {
      clearInterval(tick);
      clearInterval(keepalive);
      for (const client of clients.values()) client.res.end();
      clients.clear();
      // Not after close() returns: a page's EventSource reconnects at once on a kept-alive socket, and that stream
      // would hold close() open for ever.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function loadAssets(root: URL): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [path, file] of Object.entries(ASSETS)) {
    let body: Buffer;
    try {
      body = await readFile(new URL(file, root));
    } catch (error) {
      throw new OperationError(`the dashboard page is missing (${file}): ${(error as Error).message}`, {
        hint: 'Run `npm run build` in the marketplace checkout: it bundles the page into dist/dashboard/web.',
      });
    }
    assets.set(path, { type: TYPES[file.split('.').pop()!]!, body, gzip: gzipSync(body) });
  }
  return assets;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new UserError(`port ${port} on ${host} is already in use`, {
            hint: 'Pass --port with another number (--port 0 picks a free one).',
          }),
        );
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EACCES') {
        reject(
          new UserError(`cannot listen on ${host}:${port} (${error.code})`, {
            hint: 'Pass --host with an address of this machine (127.0.0.1 by default) and a --port you may use.',
          }),
        );
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Which Host headers a browser sends for this server: the address it listens on, plus the loopback names when it
 * listens on loopback. On a wildcard address any name may lead here, and a user who chose that accepts it.
 */
function hostCheck(host: string, port: number): (header: string) => boolean {
  if (host === '0.0.0.0' || host === '::') return () => true;
  const names = [host.includes(':') ? `[${host}]` : host];
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1') names.push('127.0.0.1', 'localhost', '[::1]');
  const allowed = new Set(names.map((name) => `${name.toLowerCase()}:${port}`));
  return (header) => allowed.has(header);
}
