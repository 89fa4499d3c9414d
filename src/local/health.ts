import { Socket } from 'node:net';

export type Health = { healthy: true } | { healthy: false; status: string };

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** The broker answers a metadata request on the plaintext listener. */
export async function kafkaHealth(bootstrap: string): Promise<Health> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: 'marketplace-local-health',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? { healthy: true } : { healthy: false, status: 'no brokers in metadata' };
  } catch (error) {
    return { healthy: false, status: describe(error) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

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

export async function mongoHealth(uri: string): Promise<Health> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_500, connectTimeoutMS: 1_500, socketTimeoutMS: 5_000 });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    if (hello.ok !== 1) return { healthy: false, status: 'hello did not answer ok' };
    // hello never touches storage; listing databases does, and catches a backend that stopped answering.
    await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    return { healthy: true };
  } catch (error) {
    return { healthy: false, status: describe(error) };
  } finally {
    await client.close().catch(() => undefined);
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
