import { Socket } from 'node:net';

export { kafkaHealth } from '../kafka/health.js';
export { mongoHealth } from '../mongo/client.js';

export type Health = { healthy: true } | { healthy: false; status: string };

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export async function tcpListening(host: string, port: number): Promise<Health> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (health: Health) => {
      socket.destroy();
      resolve(health);
    };
    socket.setTimeout(1_000, () => done({ healthy: false, status: `${host}:${port} did not answer` }));
    socket.once('error', (error) => done({ healthy: false, status: describe(error) }));
    socket.connect(port, host, () => done({ healthy: true }));
  });
}

/** Connect's KIP-1017 endpoint: 200 once the worker has joined its group and read its config topic. */
export async function connectHealth(url: string): Promise<Health> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) });
    if (response.ok) return { healthy: true };
    return { healthy: false, status: `GET /health answered ${response.status}` };
  } catch (error) {
    return { healthy: false, status: describe((error as { cause?: unknown }).cause ?? error) };
  }
}

export async function ksqldbHealth(url: string): Promise<Health> {
  try {
    const response = await fetch(`${url}/healthcheck`, { signal: AbortSignal.timeout(3_000) });
    const body = (await response.json().catch(() => undefined)) as { isHealthy?: unknown } | undefined;
    if (response.ok && body?.isHealthy === true) return { healthy: true };
    return { healthy: false, status: `GET /healthcheck answered ${response.status}` };
  } catch (error) {
    return { healthy: false, status: describe((error as { cause?: unknown }).cause ?? error) };
  }
}

async function getJson(url: string): Promise<{ ok: true; body: unknown } | { ok: false; status: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) return { ok: false, status: `GET ${new URL(url).pathname} answered ${response.status}` };
    return { ok: true, body: await response.json() };
  } catch (error) {
    return { ok: false, status: describe((error as { cause?: unknown }).cause ?? error) };
  }
}

/** The JobManager answers its REST API once its dispatcher and resource manager are up. */
export async function flinkJobManagerHealth(url: string): Promise<Health> {
  const answer = await getJson(`${url}/overview`);
  return answer.ok ? { healthy: true } : { healthy: false, status: answer.status };
}

/** A TaskManager is ready when the JobManager lists it (it has registered and offered its slots). */
export async function flinkTaskManagerHealth(jobManagerUrl: string, id: string): Promise<Health> {
  const answer = await getJson(`${jobManagerUrl}/taskmanagers`);
  if (!answer.ok) return { healthy: false, status: `JobManager: ${answer.status}` };
  const listed = (answer.body as { taskmanagers?: { id?: string }[] }).taskmanagers ?? [];
  return listed.some((tm) => tm.id === id)
    ? { healthy: true }
    : { healthy: false, status: 'not registered with the JobManager yet' };
}

export async function flinkGatewayHealth(url: string): Promise<Health> {
  const answer = await getJson(`${url}/v1/info`);
  return answer.ok ? { healthy: true } : { healthy: false, status: answer.status };
}
