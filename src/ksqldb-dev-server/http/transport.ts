import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;
export type Handler = (req: Request, res: Response) => void;

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * One listening port for HTTP/1.1 and cleartext HTTP/2 with prior knowledge: the first bytes of each connection decide
 * which server gets the socket.
 */
export function createDualProtocolServer(handler: Handler): net.Server {
  const h1 = http.createServer({ keepAliveTimeout: 30_000 }, handler);
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const prefix = chunk.subarray(0, Math.min(chunk.length, HTTP2_PREFACE.length));
      if (prefix.equals(HTTP2_PREFACE.subarray(0, prefix.length))) {
        h2.emit('connection', replayingStream(socket, chunk));
      } else {
        socket.unshift(chunk);
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  const originalClose = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    originalClose(callback);
    for (const socket of sockets) socket.destroy();
    return server;
  }) as typeof server.close;
  return server;
}

/**
 * The HTTP/2 session reads from the socket's native handle, which would skip bytes already read to sniff the
 * protocol; a JS stream that replays them first avoids that.
 */
function replayingStream(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(first);
  socket.on('data', (data: Buffer) => {
    if (!stream.push(data)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (error) => stream.destroy(error));
  return stream;
}

export function isHttp2(req: Request): boolean {
  return req.httpVersionMajor === 2;
}

export async function readBody(req: Request, limit = 10 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
