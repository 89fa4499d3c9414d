import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

/**
 * Servers that take connections and never answer, on real sockets: what a hung server, a wrong port or a black-holing
 * proxy looks like to a client. Each records what it saw, so a test can act once the client is waiting on it.
 */
export interface SilentServer {
  port: number;
  /** host:port, for bootstrap servers and MongoDB URIs. */
  address: string;
  /** http://host:port, for ksqlDB, Connect and the Cloud API. */
  url: string;
  /** Connections taken so far. */
  connections(): number;
  /** Requests read so far (HTTP only), as "METHOD /path". */
  requests(): string[];
  /** Resolves once `seen` holds (checked on every connection or request). */
  until(seen: (server: SilentServer) => boolean): Promise<void>;
  close(): Promise<void>;
}

/** A plain TCP listener that reads and discards whatever arrives and never writes a byte (Kafka, MongoDB). */
export function silentTcpServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const tracker = new Tracker(() => connections);
  const server = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    tracker.notify();
  });
  return listen(server, tracker, [], async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/**
 * An HTTP/1.1 server that reads each request and never replies. `answer` may name requests it does answer (with 200
 * and the given JSON), so a client gets past a reachability check and then waits on the request that matters.
 */
export function silentHttpServer(
  answer: (request: IncomingMessage) => unknown = () => undefined,
): Promise<SilentServer> {
  const requests: string[] = [];
  let connections = 0;
  const tracker = new Tracker(() => connections);
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    const body = answer(request);
    if (body !== undefined) response.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    tracker.notify();
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.on('error', () => undefined);
    tracker.notify();
  });
  return listen(server, tracker, requests, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

class Tracker {
  private readonly waiting = new Set<() => void>();

  constructor(readonly connections: () => number) {}

  notify(): void {
    for (const check of this.waiting) check();
  }

  until(server: SilentServer, seen: (server: SilentServer) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!seen(server)) return;
        this.waiting.delete(check);
        resolve();
      };
      this.waiting.add(check);
      check();
    });
  }
}

async function listen(
  server: ReturnType<typeof createTcpServer> | ReturnType<typeof createHttpServer>,
  tracker: Tracker,
  requests: string[],
  close: () => Promise<void>,
): Promise<SilentServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const silent: SilentServer = {
    port,
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    connections: () => tracker.connections(),
    requests: () => [...requests],
    until: (seen) => tracker.until(silent, seen),
    close,
  };
  return silent;
}
