#!/usr/bin/env node
// The same job_status join through both engines, one after the other, against the real local Kafka:
//   ksqlDB dev server: templates/ksql 01-03 in a dev server of its own (as bench:ksql runs it);
//   Apache Flink:      templates/flink job_status as a job on the local stack's Flink (started here if it is not).
// For each: (1) throughput: N jobs + N orders already in the input topics, then the statement starts from earliest;
// joined rows/s = N / time until the N-th row is readable (read_committed) in its output topic; (2) latency: a live
// rate of pairs for a while; latency = time the joined row reaches a read_committed consumer minus the time its order
// was sent (p50/p99); (3) memory: RSS of the engine's processes when idle and at their peak during the run.
// Both engines write exactly-once, so a reader sees a row once its transaction commits: the dev server runs its
// transactions back to back, Flink commits at each checkpoint (every 5 s), which is most of Flink's latency here.
// Usage: npm run bench:engines [-- --rows 100000 --seconds 15 --rate 500]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '15' },
    rate: { type: 'string', default: '500' },
  },
});
const ROWS = Number(args.rows);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);

const { loadConfig } = await import(`${root}dist/core/config.js`);
const stack = await import(`${root}dist/local/stack.js`);
const install = await import(`${root}dist/local/install.js`);
const { FlinkGateway, FlinkJobs, submitJob } = await import(`${root}dist/flink-client/index.js`);
const { loadFlinkTemplates } = await import(`${root}dist/engines/flink/templates.js`);
const { pruneFlinkState } = await import(`${root}dist/local/flink-jobs.js`);

const { values: config } = await loadConfig({ cwd: process.cwd(), env: process.env });
const settings = stack.settingsFromConfig(config, process.env);
const bootstrap = `127.0.0.1:${settings.ports.kafka}`;
const suffix = `_bench${randomUUID().slice(0, 8)}`;
const topics = {
  jobs: `job_created${suffix}`,
  orders: `order_placed${suffix}`,
  ksqldb: `job_status_ksqldb${suffix}`,
  flink: `job_status_flink${suffix}`,
};

const kafka = new kafkajs.Kafka({
  clientId: 'engines-bench',
  brokers: [bootstrap],
  logLevel: kafkajs.logLevel.NOTHING,
});
const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** Resident memory of the processes, in MiB (0 for one that is gone). */
function rssMiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return Math.round(kib / 1024);
}

/** Samples the processes' summed RSS every 250 ms until stopped; returns the peak. */
function rssPeak(pids) {
  let peak = rssMiB(pids);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pids))), 250);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssMiB(pids));
  };
}

const job = (id, ts) => ({
  value: JSON.stringify({
    job_id: id,
    job_start_date: '2026-01-01',
    job_end_date: '2026-01-02',
    price: 100,
    job_status: 'x',
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

/** Counts distinct joined rows readable (committed) in `topic`, and rows seen twice. */
async function countSink(topic, expected) {
  const seen = new Uint8Array(expected + 1);
  const counter = { distinct: 0, duplicates: 0, firstAt: undefined };
  const groupId = `engines-bench-counter${suffix}-${topic}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 8 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      counter.firstAt ??= Date.now();
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
  counter.stop = () => consumer.disconnect();
  return counter;
}

/** RATE pairs/s for SECONDS (a job, then its order); latency = the joined row's arrival minus its order's send. */
async function measureLatency(topic, firstId) {
  const sentAt = new Map();
  const latencies = [];
  const consumer = kafka.consumer({ groupId: `engines-bench-reader${suffix}-${topic}`, maxWaitTimeInMs: 20 });
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
  while (!joined) await sleep(50);
  await sleep(1000);
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  let nextId = firstId;
  const end = Date.now() + SECONDS * 1000;
  let tick = Date.now();
  while (Date.now() < end) {
    const ids = Array.from({ length: perTick }, () => nextId++);
    await producer.send({ topic: topics.jobs, messages: ids.map((id) => job(id, Date.now())) });
    const now = Date.now();
    for (const id of ids) sentAt.set(id, now);
    await producer.send({ topic: topics.orders, messages: ids.map((id) => order(id, now)) });
    tick += tickMs;
    const wait = tick - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const expected = nextId - firstId;
  // Flink commits its output every checkpoint: allow a few for the last rows.
  const deadline = Date.now() + 30_000;
  while (latencies.length < expected && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  latencies.sort((a, b) => a - b);
  return { latencies, expected };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Preloaded throughput, then latency (job ids from `liveIds` on), for one engine whose statement `start` starts. */
async function runEngine(name, sink, pids, liveIds, start) {
  process.stderr.write(`${name}: joining ${ROWS} preloaded pairs...\n`);
  const idleMiB = rssMiB(pids());
  const peak = rssPeak(pids());
  const started = Date.now();
  await start();
  const counter = await countSink(sink, ROWS);
  while (counter.distinct < ROWS) {
    await sleep(20);
    if (Date.now() - started > 600_000) throw new Error(`${name}: only ${counter.distinct}/${ROWS} rows in 10 minutes`);
  }
  const seconds = (Date.now() - started) / 1000;
  const firstSeconds = (counter.firstAt - started) / 1000;
  await sleep(500);
  await counter.stop();
  process.stderr.write(`${name}: latency at ${RATE} pairs/s for ${SECONDS} s...\n`);
  const { latencies, expected } = await measureLatency(sink, liveIds);
  return {
    engine: name,
    rows: ROWS,
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(ROWS / seconds),
    firstRowSeconds: Number(firstSeconds.toFixed(2)),
    rowsPerSecondAfterFirst: Math.round(ROWS / Math.max(0.001, seconds - firstSeconds)),
    duplicates: counter.duplicates,
    latencyRate: RATE,
    latencyRows: `${latencies.length}/${expected}`,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    idleRssMiB: idleMiB,
    peakRssMiB: peak(),
  };
}

// ---- the dev server -------------------------------------------------------------------------------------------

async function startDevServer() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      `${root}dist/ksqldb-dev-server/main.js`,
      ...['--listen', `127.0.0.1:${port}`, '--bootstrap', bootstrap, '--service-id', `bench${suffix}_`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await (await fetch(`${url}/healthcheck`)).json()).isHealthy) return { url, child };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`dev server exited: ${log}`);
    await sleep(100);
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
}

function ksqlStatements(files) {
  const dir = `${root}templates/ksql/`;
  const renamed = { job_created: topics.jobs, order_placed: topics.orders, job_status: topics.ksqldb };
  return readdirSync(dir)
    .filter((f) => files.some((w) => f.startsWith(w)))
    .sort()
    .map((f) =>
      readFileSync(dir + f, 'utf8').replace(/KAFKA_TOPIC = '([^']+)'/g, (_m, t) => `KAFKA_TOPIC = '${renamed[t]}'`),
    )
    .join('\n');
}

// ---- Flink ------------------------------------------------------------------------------------------------------

async function flinkPids() {
  const pids = [];
  for (const service of ['flink-jobmanager', 'flink-taskmanager', 'flink-gateway']) {
    try {
      pids.push(JSON.parse(readFileSync(`${settings.home}/run/${service}.json`, 'utf8')).pid);
    } catch {
      // not running
    }
  }
  return pids;
}

let server;
let flinkJobId;
let flinkStartedHere = false;
const flinkJobs = new FlinkJobs({ url: `http://127.0.0.1:${settings.ports.flink}` });
try {
  await admin.connect();
  await producer.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.jobs, numPartitions: 3 },
      { topic: topics.orders, numPartitions: 3 },
      { topic: topics.flink, numPartitions: 1 },
    ],
  });

  // Flink first comes up (installed on first use), so both engines run on the same loaded machine.
  if ((await install.missingComponents(settings.home, ['flink'])).length > 0) {
    process.stderr.write('installing Flink into the local stack...\n');
    await install.installStack({ home: settings.home, groups: ['flink'], env: process.env });
  }
  const started = await stack.startStack({ settings, groups: ['flink'], env: process.env });
  flinkStartedHere = started.services.some((s) => s.name.startsWith('flink-') && s.action === 'started');

  process.stderr.write(`producing ${ROWS} jobs and ${ROWS} orders...\n`);
  const base = Date.now() - 30 * 60_000;
  for (let first = 0; first < ROWS; first += 2000) {
    const ids = Array.from({ length: Math.min(2000, ROWS - first) }, (_, i) => first + i + 1);
    await producer.sendBatch({
      topicMessages: [
        { topic: topics.jobs, messages: ids.map((id) => job(id, base + Math.floor(id / 100))) },
        { topic: topics.orders, messages: ids.map((id) => order(id, base + Math.floor(id / 100) + 1)) },
      ],
    });
  }

  server = await startDevServer();
  await ksql(server.url, ksqlStatements(['01', '02']));
  // Each engine's live pairs get ids of their own: Flink reads the input topics from the start, ksqlDB's live pairs too.
  const liveIds = { ksqldb: ROWS + 1, flink: ROWS + 1 + 2 * RATE * SECONDS };
  const ksqlResult = await runEngine(
    'ksqlDB dev server',
    topics.ksqldb,
    () => [server.child.pid],
    liveIds.ksqldb,
    () => ksql(server.url, ksqlStatements(['03']), { 'auto.offset.reset': 'earliest' }),
  );
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  server = undefined;

  const templates = await loadFlinkTemplates({ bootstrapServers: bootstrap });
  const pipeline = templates.pipelines.find((p) => p.name === 'job_status');
  const renamed = { job_created: topics.jobs, order_placed: topics.orders, job_status: topics.flink };
  const own = (sql) =>
    sql
      .replace(/'topic' = '([^']+)'/g, (_m, t) => `'topic' = '${renamed[t] ?? t}'`)
      .replace(/'sink\.transactional-id-prefix' = '([^']+)'/, `'sink.transactional-id-prefix' = '$1${suffix}'`)
      .replace(/'properties\.group\.id' = '([^']+)'/g, `'properties.group.id' = '$1${suffix}'`);
  const pids = await flinkPids();
  const flinkResult = await runEngine(
    'Apache Flink',
    topics.flink,
    () => pids,
    liveIds.flink,
    async () => {
      flinkJobId = await submitJob(
        new FlinkGateway({ url: `http://127.0.0.1:${settings.ports.flinkGateway}` }),
        flinkJobs,
        {
          name: `bench${suffix}`,
          tables: pipeline.tables.map(own),
          insert: pipeline.insert,
          config: pipeline.config,
        },
      );
    },
  );

  const rows = [
    ['', 'ksqlDB dev server', 'Apache Flink'],
    [`${ROWS} preloaded pairs joined in`, `${ksqlResult.seconds} s`, `${flinkResult.seconds} s`],
    ['  rows/s (from the start)', ksqlResult.rowsPerSecond, flinkResult.rowsPerSecond],
    ['  first row after', `${ksqlResult.firstRowSeconds} s`, `${flinkResult.firstRowSeconds} s`],
    ['  rows/s after the first row', ksqlResult.rowsPerSecondAfterFirst, flinkResult.rowsPerSecondAfterFirst],
    ['  rows seen twice', ksqlResult.duplicates, flinkResult.duplicates],
    [`latency at ${RATE} pairs/s, p50`, `${ksqlResult.p50Ms} ms`, `${flinkResult.p50Ms} ms`],
    ['  p99', `${ksqlResult.p99Ms} ms`, `${flinkResult.p99Ms} ms`],
    ['  rows measured', ksqlResult.latencyRows, flinkResult.latencyRows],
    ['RSS idle (Flink: JM + TM + gateway)', `${ksqlResult.idleRssMiB} MiB`, `${flinkResult.idleRssMiB} MiB`],
    ['RSS peak', `${ksqlResult.peakRssMiB} MiB`, `${flinkResult.peakRssMiB} MiB`],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, c) => String(cell).padEnd(widths[c])).join('   ')}\n`);
  }
  process.stdout.write(`${JSON.stringify({ ksqldb: ksqlResult, flink: flinkResult })}\n`);
} finally {
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  if (flinkJobId) {
    await flinkJobs.cancel(flinkJobId).catch(() => undefined);
    await flinkJobs.waitEnded(flinkJobId).catch(() => undefined);
    // The cancelled job's checkpoints are of no use to anyone.
    await pruneFlinkState(settings).catch(() => undefined);
  }
  if (flinkStartedHere && process.env.MARKETPLACE_KEEP_STACK !== '1') {
    await stack.stopStack({ home: settings.home, only: ['flink-gateway', 'flink-taskmanager', 'flink-jobmanager'] });
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
