import { connect } from 'node:net';

/** Cheap reachability probes with short timeouts, for `doctor` and for friendly "is it up?" errors. */

export async function tcpReachable(hostPort: string, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  const { host, port } = splitHostPort(hostPort);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no answer from ${host}:${port} within ${timeoutMs} ms`));
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
  options: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<HttpProbeResult> {
  const timeoutMs = options.timeoutMs ?? 3000;
  try {
    const response = await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: true, status: response.status, detail: `${new URL(url).origin} answered HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause?.code ?? (error as Error).message);
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
