import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { formatDuration } from '../core/parse.js';
import { within } from '../core/waiter.js';
import { isUnreachableCode } from './errors.js';

/** `auto` speaks HTTP/2 when the server accepts it and falls back to HTTP/1.1 otherwise. */
export type ProtocolPreference = 'auto' | 'http2' | 'http1';
export type WireProtocol = 'HTTP/2' | 'HTTP/1.1';

export interface TlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer;
  /** Client certificate and key for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false only for development servers with self-signed certificates. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** A whole body, or a stream written while the response is read (inserts-stream). */
  body?: string | Readable;
  /** Fail instead of falling back to HTTP/1.1 (the endpoint only exists on HTTP/2). */
  requireHttp2?: boolean;
  /** Deadline for the response headers, choosing the protocol included. */
  timeoutMs: number;
  /** Abandons the request (its reason is thrown) when this aborts: Ctrl-C. */
  signal?: AbortSignal;
}

export interface HttpExchange {
  protocol: WireProtocol;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** True once the body ended cleanly (HTTP/2 END_STREAM, or the last HTTP/1.1 chunk). */
  readonly completed: boolean;
  /** Abandons the exchange: resets the HTTP/2 stream or destroys the HTTP/1.1 connection. */
  cancel(): void;
}

/** The server answered the HTTP/2 preface with something that is not HTTP/2 (or nothing at all). */
export class Http2RefusedError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'Http2RefusedError';
  }
}

export class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`no response to ${what} within ${formatDuration(ms)}`);
    this.name = 'RequestTimeoutError';
  }
}

export interface TransportOptions {
  baseUrl: URL;
  protocol: ProtocolPreference;
  tls?: TlsOptions;
  connectTimeoutMs: number;
}

/**
 * One origin, one protocol decision. With `auto`, the first request opens an HTTP/2 session (ALPN h2 on TLS,
 * prior-knowledge h2c on plain HTTP); if the server does not answer with HTTP/2 SETTINGS, every later request uses
 * HTTP/1.1 keep-alive connections instead. All requests then share the one session or the agent's pool.
 */
export class Transport {
  private decided: WireProtocol | undefined;
  private readonly h2: Http2Connection;
  private readonly agent: http.Agent;
  private readonly secure: boolean;

  constructor(private readonly options: TransportOptions) {
    this.secure = options.baseUrl.protocol === 'https:';
    this.h2 = new Http2Connection(options);
    const agentOptions = { keepAlive: true, ...tlsConnectOptions(options.tls) };
    this.agent = this.secure ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true });
    if (options.protocol === 'http1') this.decided = 'HTTP/1.1';
  }

  /** The protocol requests go over, deciding it (by connecting) if not known yet. */
  async protocol(): Promise<WireProtocol> {
    if (this.decided) return this.decided;
    try {
      await this.h2.session();
      this.decided = 'HTTP/2';
    } catch (error) {
      if (this.options.protocol === 'http2' || !(error instanceof Http2RefusedError)) throw error;
      this.decided = 'HTTP/1.1';
    }
    return this.decided;
  }

  /**
   * Sends the request and resolves with the response headers. One deadline covers choosing the protocol and the
   * answer, so a server that accepts connections and says nothing costs `timeoutMs`, not a connect timeout on top;
   * at the deadline or at Ctrl-C the request is cancelled on the wire.
   */
  async request(request: HttpRequest): Promise<HttpExchange> {
    const cancel = new AbortController();
    const answer = (async () => {
      const protocol = request.requireHttp2 && this.decided !== 'HTTP/1.1' ? 'HTTP/2' : await this.protocol();
      return protocol === 'HTTP/2' ? this.h2.request(request, cancel.signal) : this.http1(request, cancel.signal);
    })();
    // An answer that arrives after the deadline is not wanted any more.
    answer.then((exchange) => cancel.signal.aborted && exchange.cancel()).catch(() => undefined);
    try {
      return await within(answer, {
        timeoutMs: request.timeoutMs,
        signal: request.signal,
        onTimeout: () => new RequestTimeoutError(`${request.method} ${request.path}`, request.timeoutMs),
      });
    } catch (error) {
      cancel.abort(error);
      throw error;
    }
  }

  close(): void {
    this.h2.close();
    this.agent.destroy();
  }

  private http1(request: HttpRequest, cancel: AbortSignal): Promise<HttpExchange> {
    const url = new URL(joinPath(this.options.baseUrl, request.path));
    const send = this.secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      if (cancel.aborted) return reject(cancel.reason);
      const req = send(url, { method: request.method, headers: request.headers, agent: this.agent });
      const onCancel = () => req.destroy(cancel.reason as Error);
      cancel.addEventListener('abort', onCancel, { once: true });
      req.once('error', (error) => {
        cancel.removeEventListener('abort', onCancel);
        reject(error);
      });
      req.once('response', (response) => {
        cancel.removeEventListener('abort', onCancel);
        let completed = false;
        response.once('end', () => {
          completed = response.complete;
        });
        resolve({
          protocol: 'HTTP/1.1',
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: response,
          get completed() {
            return completed;
          },
          cancel: () => {
            req.destroy();
            response.destroy();
          },
        });
      });
      writeBody(req, request.body);
    });
  }
}

class Http2Connection {
  private current: http2.ClientHttp2Session | undefined;
  private opening: Promise<http2.ClientHttp2Session> | undefined;
  private active = 0;

  constructor(private readonly options: TransportOptions) {}

  session(): Promise<http2.ClientHttp2Session> {
    const session = this.current;
    if (session && !session.closed && !session.destroyed) return Promise.resolve(session);
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Opens a stream (a new session first, if needed); `cancel` resets it. The caller bounds the time. */
  async request(request: HttpRequest, cancel: AbortSignal): Promise<HttpExchange> {
    const endStream = request.body === undefined;
    const headers = {
      ':method': request.method,
      ':path': joinPath(this.options.baseUrl, request.path, true),
      ...lowerCase(request.headers),
    };
    let session = await this.session();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream, signal: cancel });
    } catch (error) {
      // The server sent GOAWAY (idle timeout, restart) between our check and the request: one new session.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ERR_HTTP2_GOAWAY_SESSION' && code !== 'ERR_HTTP2_INVALID_SESSION') throw error;
      if (this.current === session) this.current = undefined;
      session = await this.session();
      stream = session.request(headers, { endStream, signal: cancel });
    }
    this.track(session, stream);
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      const onClose = () => {
        reject(
          Object.assign(new Error('the HTTP/2 stream closed before the response started'), { code: 'ECONNRESET' }),
        );
      };
      stream.once('error', onError);
      stream.once('close', onClose);
      stream.once('response', (headers) => {
        stream.off('error', onError);
        stream.off('close', onClose);
        let completed = false;
        stream.once('end', () => {
          completed = true;
        });
        resolve({
          protocol: 'HTTP/2',
          status: Number(headers[':status'] ?? 0),
          headers: headers as Record<string, string | string[] | undefined>,
          body: stream,
          get completed() {
            return completed;
          },
          cancel: () => {
            if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          },
        });
      });
      if (!endStream) writeBody(stream, request.body);
    });
  }

  close(): void {
    const session = this.current;
    this.current = undefined;
    if (session && !session.destroyed) session.destroy();
  }

  /** The session keeps the process alive only while a stream is open, so an idle client never blocks exit. */
  private track(session: http2.ClientHttp2Session, stream: http2.ClientHttp2Stream): void {
    this.active++;
    session.ref();
    stream.once('close', () => {
      this.active--;
      if (this.active === 0 && !session.destroyed) session.unref();
    });
  }

  private open(): Promise<http2.ClientHttp2Session> {
    const { baseUrl, tls, connectTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const session = http2.connect(baseUrl.origin, tlsConnectOptions(tls));
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        // A TLS server that insists on ALPN and has no h2 aborts the handshake: that is a refusal, not a TLS fault.
        const alpnRefused = code?.includes('NO_APPLICATION_PROTOCOL') === true;
        reject(
          isUnreachableCode(code) && !alpnRefused
            ? error
            : new Http2RefusedError('the server did not accept HTTP/2', error),
        );
      };
      const timer = setTimeout(
        () => fail(new Http2RefusedError(`no HTTP/2 SETTINGS within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const onClosedEarly = () => fail(new Http2RefusedError('the server closed the connection on the HTTP/2 preface'));
      session.once('error', fail);
      session.once('close', onClosedEarly);
      session.once('connect', () => {
        // On TLS the ALPN answer says it directly: no h2, no HTTP/2.
        const alpn = (session.socket as { alpnProtocol?: string | false } | undefined)?.alpnProtocol;
        if (baseUrl.protocol === 'https:' && alpn !== 'h2')
          fail(new Http2RefusedError(`the server chose ALPN ${alpn || 'none'}`));
      });
      // SETTINGS alone does not prove the peer parsed our preface (a server that mis-routes the connection still
      // sends its own SETTINGS first); a PING answered does.
      session.once('remoteSettings', () => {
        if (settled) return;
        const pinged = session.ping((error) => {
          if (error) fail(new Http2RefusedError('the server did not answer an HTTP/2 PING', error));
          else accept();
        });
        if (!pinged) fail(new Http2RefusedError('could not send an HTTP/2 PING'));
      });
      const accept = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.off('error', fail);
        session.off('close', onClosedEarly);
        // Errors after this point surface on the streams that were open; the session just goes away.
        session.on('error', () => undefined);
        session.once('close', () => {
          if (this.current === session) this.current = undefined;
        });
        session.once('goaway', () => {
          if (this.current === session) this.current = undefined;
        });
        if (this.active === 0) session.unref();
        this.current = session;
        resolve(session);
      };
    });
  }
}

function writeBody(target: NodeJS.WritableStream, body: string | Readable | undefined): void {
  if (body === undefined) {
    target.end();
  } else if (typeof body === 'string') {
    target.end(body);
  } else {
    body.pipe(target);
  }
}

function tlsConnectOptions(tls: TlsOptions | undefined): Record<string, unknown> {
  if (!tls) return {};
  const options: Record<string, unknown> = {};
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** Resolves a request path under the base URL's own path (a proxy may serve ksqlDB below a prefix). */
export function joinPath(base: URL, path: string, pathOnly = false): string {
  const prefix = base.pathname.replace(/\/+$/, '');
  const joined = `${prefix}${path.startsWith('/') ? path : `/${path}`}`;
  return pathOnly ? joined : `${base.origin}${joined}`;
}
