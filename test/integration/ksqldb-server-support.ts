import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { startKsqlDevServer, type KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { stackEndpoints } from '../helpers/stack.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

/** Shared plumbing for the dev-server integration tests: a real server on a free port against the real local Kafka. */
export function bootstrap(): string {
  return stackEndpoints().kafka.plaintext;
}

export function uniqueSuffix(): string {
  return `_${randomUUID().slice(0, 8)}`;
}

export async function startServer(
  serviceId: string,
  extra: { authorize?: (k: string, s: string) => boolean } = {},
): Promise<KsqlDevServer> {
  return startKsqlDevServer({
    listen: '127.0.0.1:0',
    bootstrap: bootstrap(),
    serviceId,
    log: () => undefined,
    ...extra,
  });
}

export interface KafkaTestClient {
  admin: Admin;
  producer: Producer;
  kafka: InstanceType<typeof Kafka>;
  close(): Promise<void>;
}

export async function kafkaClient(): Promise<KafkaTestClient> {
  const kafka = new Kafka({ clientId: 'ksqldb-dev-test', brokers: [bootstrap()], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await admin.connect();
  await producer.connect();
  return {
    kafka,
    admin,
    producer,
    close: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** Deletes the topics and consumer groups whose names contain `marker` (a test's unique suffix / service id). */
export async function cleanup(client: KafkaTestClient, marker: string): Promise<void> {
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(marker));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(marker));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Closes a test file's dev server and Kafka client, removing the topics and groups marked with `marker` first. */
export async function closeServerAndClient(
  server: KsqlDevServer | undefined,
  client: KafkaTestClient | undefined,
  marker: string,
): Promise<void> {
  await server?.close();
  if (!client) return;
  await cleanup(client, marker);
  await client.close();
}

/** The demo's statements, run exactly, except that every KAFKA_TOPIC gets `suffix` so tests never share topics. */
export function templateStatements(suffix: string, files?: string[]): string {
  const dir = fileURLToPath(new URL('../../templates/ksql/', import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && (!files || files.some((wanted) => f.startsWith(wanted))))
    .sort()
    .map((f) =>
      readFileSync(dir + f, 'utf8').replace(
        /KAFKA_TOPIC = '([^']+)'/g,
        (_m, topic: string) => `KAFKA_TOPIC = '${topic}${suffix}'`,
      ),
    )
    .join('\n');
}

export async function postJson(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const response = await fetch(url + path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

export async function ksql(
  url: string,
  text: string,
  streamsProperties: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return postJson(url, '/ksql', { ksql: text, streamsProperties }, headers);
}

/** Runs a statement list and fails loudly unless it succeeded. */
export async function ksqlOk(
  url: string,
  text: string,
  streamsProperties: Record<string, unknown> = {},
): Promise<any[]> {
  const result = await ksql(url, text, streamsProperties);
  if (result.status !== 200) throw new Error(`ksql failed (${result.status}): ${result.text}`);
  return result.body as any[];
}

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  text: string;
}

/** One HTTP/2 (h2c prior knowledge) request; `body` may be a string or lines written as they are given. */
export async function http2Request(
  url: string,
  path: string,
  body: string | string[],
  headers: Record<string, string> = {},
): Promise<H2Response> {
  const session = http2.connect(url);
  try {
    return await new Promise<H2Response>((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/json',
        ...headers,
      });
      let status = 0;
      let responseHeaders: http2.IncomingHttpHeaders = {};
      let text = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        responseHeaders = h;
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => resolve({ status, headers: responseHeaders, text }));
      stream.on('error', reject);
      if (typeof body === 'string') stream.end(body);
      else {
        for (const line of body) stream.write(line + '\n');
        stream.end();
      }
    });
  } finally {
    session.close();
  }
}

export interface RawRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
}

/**
 * Reads a topic's committed records from the beginning until `until(records, reached)` holds or the timeout passes;
 * returns what was read. `reached` is the last offset fetched per partition, transaction markers included.
 */
export async function consumeTopic(
  client: KafkaTestClient,
  topic: string,
  until: (records: RawRecord[], reached: Map<number, number>) => boolean,
  timeoutMs = 30_000,
): Promise<RawRecord[]> {
  const groupId = `ksqldb-dev-test-reader-${randomUUID()}`;
  const consumer = client.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: RawRecord[] = [];
  const reached = new Map<number, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        reached.set(payload.partition, Math.max(reached.get(payload.partition) ?? -1, Number(payload.lastOffset)));
        if (until(records, reached)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            timestamp: Number(message.timestamp),
          });
          if (until(records, reached)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
      if (until(records, reached)) {
        clearTimeout(timer);
        resolve();
      }
    });
  } finally {
    await consumer.disconnect();
    const admin = client.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return records;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { eventually } from '../helpers/poll.js';

export { eventually };

/** Parses a delimited /query-stream body: header object, then rows. */
export function parseDelimited(text: string): { header: any; rows: unknown[][]; errors: any[] } {
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  return {
    header: lines[0],
    rows: lines.filter((l) => Array.isArray(l)),
    errors: lines.filter((l) => !Array.isArray(l) && l.error_code !== undefined),
  };
}

/** Every committed record currently in a topic (up to its last stable offsets when called). */
export async function readTopic(client: KafkaTestClient, topic: string): Promise<RawRecord[]> {
  // A fresh admin: a kafkajs client that once looked at a since-deleted topic fails its later metadata refreshes.
  const admin = client.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = ends.reduce((sum, p) => sum + (Number(p.high) - Number(p.low)), 0);
  if (total === 0) return [];
  const want = new Map(ends.map((p) => [p.partition, Number(p.high)]));
  return consumeTopic(client, topic, (_records, reached) => {
    for (const [partition, high] of want) {
      if (high === 0) continue;
      if ((reached.get(partition) ?? -1) < high - 1) return false;
    }
    return true;
  });
}

/**
 * Waits until the persistent query writing `sink` has committed its position at the end of every topic in `inputs`.
 * Its output and its input positions commit in one transaction, so from then on the sink holds everything the query
 * will ever make of the records sent so far: a test can check that something did not appear without a fixed wait.
 */
export async function queryCaughtUp(
  url: string,
  client: KafkaTestClient,
  options: { serviceId: string; sink: string; inputs: string[]; timeoutMs?: number },
): Promise<void> {
  const listed = await ksqlOk(url, 'SHOW QUERIES;');
  const queries = listed[0].queries as { id: string; sinks: string[] }[];
  const query = queries.find((q) => q.sinks.some((sink) => sink.toUpperCase() === options.sink.toUpperCase()));
  if (!query) throw new Error(`no persistent query writes ${options.sink}`);
  // ksqlDB's consumer group of a persistent query, which the dev server keeps.
  const groupId = `_confluent-ksql-${options.serviceId}query_${query.id}`;
  await eventually(
    async () => {
      for (const topic of options.inputs) {
        const ends = await client.admin.fetchTopicOffsets(topic);
        const [committed] = await client.admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        if (ends.some((end) => Number(end.high) > 0 && (at.get(end.partition) ?? -1) < Number(end.high))) return;
      }
      return true;
    },
    options.timeoutMs ?? 60_000,
    `query ${query.id} to process everything in ${options.inputs.join(', ')}`,
  );
}

/** Polls a topic until `done(records)` holds, then returns everything in it. */
export async function readTopicUntil(
  client: KafkaTestClient,
  topic: string,
  done: (records: RawRecord[]) => boolean,
  timeoutMs = 60_000,
): Promise<RawRecord[]> {
  return eventually(
    async () => {
      const records = await readTopic(client, topic);
      return done(records) ? records : undefined;
    },
    timeoutMs,
    `records in ${topic}`,
  );
}
