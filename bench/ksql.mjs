#!/usr/bin/env node
// Benchmark of the ksqlDB dev server's job_status join (templates/ksql/03-job-status.sql) against the real local Kafka:
//   1. throughput: N jobs + N orders already in the input topics, then the CSAS starts from earliest; joined rows/s
//      = N / time until the N-th output row is readable (read_committed) in job_status;
//   2. latency: 1,000 pairs/s produced live for a while; latency = time the joined row reaches a consumer minus the
//      time its order was sent (p50/p99).
// Usage: npm run bench:ksql [-- --bootstrap 127.0.0.1:19092 --rows 100000 --seconds 15 --rate 1000]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';

const { values: args } = parseArgs({
  options: {
    bootstrap: { type: 'string', default: `127.0.0.1:${process.env.MARKETPLACE_LOCAL_KAFKA_PORT ?? '19092'}` },
    rows: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '15' },
    rate: { type: 'string', default: '1000' },
  },
});
const ROWS = Number(args.rows);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const root = fileURLToPath(new URL('..', import.meta.url));
const suffix = `_bench${randomUUID().slice(0, 8)}`;
const serviceId = `bench${suffix}_`;
const topics = {
  jobs: `job_created${suffix}`,
  orders: `order_placed${suffix}`,
  sink: `job_status${suffix}`,
  baseline: `latency_baseline${suffix}`,
};

const kafka = new kafkajs.Kafka({
  clientId: 'ksql-bench',
  brokers: [args.bootstrap],
  logLevel: kafkajs.logLevel.NOTHING,
});
const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startServer() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.KSQL_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      `${root}dist/ksqldb-dev-server/main.js`,
      '--listen',
      `127.0.0.1:${port}`,
      '--bootstrap',
      args.bootstrap,
      '--service-id',
      serviceId,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const health = await (await fetch(`${url}/healthcheck`)).json();
      if (health.isHealthy) return { url, child };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`dev server exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dev server did not become healthy: ${log}`);
}

async function ksql(url, text, streamsProperties = {}) {
  const response = await fetch(`${url}/ksql`, {
    method: 'POST',
    body: JSON.stringify({ ksql: text, streamsProperties }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`ksql failed (${response.status}): ${body}`);
  return JSON.parse(body);
}

function statements(files) {
  const dir = `${root}templates/ksql/`;
  return readdirSync(dir)
    .filter((f) => files.some((w) => f.startsWith(w)))
    .sort()
    .map((f) =>
      readFileSync(dir + f, 'utf8').replace(/KAFKA_TOPIC = '([^']+)'/g, (_m, t) => `KAFKA_TOPIC = '${t}${suffix}'`),
    )
    .join('\n');
}

const job = (id, ts) => ({
  value: JSON.stringify({
    job_id: id,
    job_start_date: '2026-01-01',
    job_end_date: '2026-01-02',
    price: 100,
    job_status: 'CREATED',
  }),
  timestamp: String(ts),
});
const order = (id, ts) => ({
  value: JSON.stringify({
    job_id: id,
    customer_id: `cust-${id % 997}`,
    service_option: 'standard',
    contractor_id: `con-${id % 101}`,
    location: 'Sydney',
    price_quoted: id % 3 === 0 ? 80 : 120,
  }),
  timestamp: String(ts),
});

/**
 * Counts the distinct joined rows readable in the sink (committed ones: the dev server writes in transactions, whose
 * markers take offsets too, so offsets cannot count rows) and any row seen twice.
 */
async function countSink(expected) {
  const seen = new Uint8Array(expected + 1);
  const counter = { distinct: 0, duplicates: 0 };
  const groupId = `ksql-bench-counter${suffix}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 8 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.sink, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const id = Number(m.key.readBigInt64BE());
        if (id > expected) continue;
        if (seen[id]) counter.duplicates++;
        else {
          seen[id] = 1;
          counter.distinct++;
        }
      }
    },
  });
  counter.stop = async () => {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  };
  return counter;
}

function longKey(id) {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(BigInt(id));
  return key;
}

/**
 * Calls `send(ids, mark)` every 20 ms at RATE rows/s for SECONDS; `mark(ids)` records the send time (call it just
 * before the produce whose arrival in `topic` is measured) and returns it.
 */
async function measureLatency(topic, firstId, send) {
  const sentAt = new Map();
  const latencies = [];
  const groupId = `ksql-bench-reader${suffix}-${topic}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 20, minBytes: 1 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const sent = sentAt.get(Number(m.key.readBigInt64BE()));
        if (sent !== undefined) latencies.push(now - sent);
      }
    },
  });
  while (!joined) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  process.stderr.write(`latency run on ${topic}: ${RATE} rows/s for ${SECONDS}s...\n`);
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  let nextId = firstId;
  const end = Date.now() + SECONDS * 1000;
  let tick = Date.now();
  while (Date.now() < end) {
    const ids = Array.from({ length: perTick }, () => nextId++);
    await send(ids, (marked) => {
      const now = Date.now();
      for (const id of marked) sentAt.set(id, now);
      return now;
    });
    tick += tickMs;
    const wait = tick - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const expected = nextId - firstId;
  const deadline = Date.now() + 10_000;
  while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  latencies.sort((a, b) => a - b);
  return { latencies, expected };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

let server;
try {
  await admin.connect();
  await producer.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.jobs, numPartitions: 3 },
      { topic: topics.orders, numPartitions: 3 },
    ],
  });
  server = await startServer();
  await ksql(server.url, statements(['01', '02']));

  // 1. Throughput.
  process.stderr.write(`producing ${ROWS} jobs and ${ROWS} orders...\n`);
  const base = Date.now() - 30 * 60_000;
  for (let start = 0; start < ROWS; start += 2000) {
    const ids = Array.from({ length: Math.min(2000, ROWS - start) }, (_, i) => start + i + 1);
    await producer.sendBatch({
      topicMessages: [
        { topic: topics.jobs, messages: ids.map((id) => job(id, base + Math.floor(id / 100))) },
        { topic: topics.orders, messages: ids.map((id) => order(id, base + Math.floor(id / 100) + 1)) },
      ],
    });
  }
  const started = Date.now();
  await ksql(server.url, statements(['03']), { 'auto.offset.reset': 'earliest' });
  const counter = await countSink(ROWS);
  while (counter.distinct < ROWS) {
    await new Promise((r) => setTimeout(r, 20));
    if (Date.now() - started > 300_000) throw new Error(`only ${counter.distinct}/${ROWS} joined rows after 5 minutes`);
  }
  const seconds = (Date.now() - started) / 1000;
  const throughput = Math.round(ROWS / seconds);
  await new Promise((r) => setTimeout(r, 500));
  const duplicates = counter.duplicates;
  await counter.stop();

  // 2. Latency at a fixed rate, through the join and, as a baseline, through Kafka alone (produce -> consume).
  const { latencies, expected } = await measureLatency(topics.sink, ROWS + 1, async (ids, mark) => {
    await producer.send({ topic: topics.jobs, messages: ids.map((id) => job(id, Date.now())) });
    const orderTime = mark(ids);
    await producer.send({ topic: topics.orders, messages: ids.map((id) => order(id, orderTime)) });
  });
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.baseline, numPartitions: 3 }] });
  const baseline = await measureLatency(topics.baseline, 1, async (ids, mark) => {
    mark(ids);
    await producer.send({ topic: topics.baseline, messages: ids.map((id) => ({ key: longKey(id), value: '{}' })) });
  });
  const result = {
    throughputRowsPerSecond: throughput,
    throughputRows: ROWS,
    throughputSeconds: Number(seconds.toFixed(2)),
    throughputDuplicates: duplicates,
    latencyRate: RATE,
    latencyRows: latencies.length,
    latencyExpectedRows: expected,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    kafkaOnlyP50Ms: percentile(baseline.latencies, 50),
    kafkaOnlyP99Ms: percentile(baseline.latencies, 99),
  };
  process.stdout.write(
    `job_status join: ${throughput} rows/s sustained (${ROWS} rows in ${result.throughputSeconds}s; target >= 20000)\n` +
      `latency at ${RATE} rows/s: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms over ${latencies.length}/${expected} rows (target p99 < 100 ms)\n` +
      `  baseline, Kafka alone (one produce -> consume hop, same rate): p50 ${result.kafkaOnlyP50Ms} ms, p99 ${result.kafkaOnlyP99Ms} ms\n` +
      `${JSON.stringify(result)}\n`,
  );
} finally {
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  const leftovers = (await admin.listTopics().catch(() => [])).filter((t) => t.includes(suffix));
  if (leftovers.length) await admin.deleteTopics({ topics: leftovers }).catch(() => undefined);
  const groups = (await admin.listGroups().catch(() => ({ groups: [] }))).groups
    .map((g) => g.groupId)
    .filter((g) => g.includes(suffix));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
}
