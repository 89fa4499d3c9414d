import { connect } from 'node:net';
import { formatDuration } from './parse.js';
import { abortReason, within } from './waiter.js';

/**
 * Cheap reachability probes with short timeouts, for `doctor` and for friendly "is it up?" errors. Ctrl-C (the
 * signal) ends a probe at once, throwing the signal's reason.
 */

export async function tcpReachable(
  hostPort: string,
  timeoutMs = 2000,
  signal?: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  const { host, port } = splitHostPort(hostPort);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const socket = connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (ok: boolean, detail: string) => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.setTimeout(timeoutMs, () =>
      done(false, `no connection to ${host}:${port} within ${formatDuration(timeoutMs)}`),
    );
    socket.once('connect', () => done(true, `${host}:${port} accepts connections`));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(false, `${host}:${port}: ${error.code ?? error.message}`),
    );
  });
}

export interface HttpProbeResult {
  ok: boolean;
  status?: number;
  detail: string;
}

export async function httpReachable(
  url: string,
  options: { timeoutMs?: number; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<HttpProbeResult> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const cancel = new AbortController();
  const silent = new Error(`no answer within ${formatDuration(timeoutMs)}`);
  try {
    const response = await within(fetch(url, { headers: options.headers, signal: cancel.signal }), {
      timeoutMs,
      signal: options.signal,
      onTimeout: () => silent,
    });
    await response.body?.cancel();
    return { ok: true, status: response.status, detail: `${new URL(url).origin} answered HTTP ${response.status}` };
  } catch (error) {
    cancel.abort();
    if (options.signal?.aborted) throw abortReason(options.signal);
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    const reason = error === silent ? silent.message : (cause?.code ?? (error as Error).message);
    return { ok: false, detail: `${safeOrigin(url)}: ${reason}` };
  }
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const index = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(hostPort.slice(index + 1)) };
}

/** host:port of a mongodb:// URI (first host of a seed list), without credentials. */
export function mongoHostPort(uri: string): string | undefined {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^/,?]+)/.exec(uri);
  if (!match) return undefined;
  return match[1]!.includes(':') ? match[1] : `${match[1]}:27017`;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
