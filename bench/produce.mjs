#!/usr/bin/env node
// Producer benchmark against the running local broker (`marketplace local start`), in one run:
//   (a) `marketplace produce --rate max` (the three job topics) — records/s acknowledged
//   (b) Apache Kafka's ProducerPerformance (org.apache.kafka.tools) with the same record size, acks=all, same broker
//       → both rates and the ratio (target ≥ 0.8). ProducerPerformance sends one fixed random payload over and over
//       and is given as many records as (a) sent, so it runs about as long; (a) generates every record (faker-seeded
//       JSON, correlated jobs and orders) as well as sending it.
//   (c) rate accuracy at 10, 1,000 and 20,000 jobs/s over 60 s, from the broker timestamps of job_created, over
//       every 10 s window (1 s steps) → worst deviation (target ±1%)
//   (d) peak RSS of the produce processes (target < 200 MB)
//
//   npm run bench:produce
//   BENCH_MAX_SECONDS=20          length of (a)
//   BENCH_RATE_SECONDS=60         length of each (c) run
//   BENCH_RATES=10,1000,20000     the (c) rates
//   BENCH_RATE_TOPICS=job_created topics of the (c) runs (job_created,order_placed,joblocation for the full 3×)
//   BENCH_THREADS_AB=1            also run (a) with --threads 0 (all on the main thread), for an A/B of the threads
// Topics are created under a unique prefix and deleted afterwards, so the shared broker is left as it was.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
const { loadConfig, expandHome } = await import(dist('core/config.js'));
const { configuredEndpoints } = await import(dist('core/endpoints.js'));
const { stackPaths } = await import(dist('local/settings.js'));
const { createKafka } = await import(dist('kafka/client.js'));
const { ensureTopics } = await import(dist('kafka/topics.js'));
const { scanTopic } = await import(dist('kafka/consumer.js'));

const CLI = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 20);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 60);
const RATES = (process.env.BENCH_RATES ?? '10,1000,20000').split(',').map(Number);
const RATE_TOPICS = process.env.BENCH_RATE_TOPICS ?? 'job_created';
const JOB_TOPICS = 'job_created,order_placed,joblocation';
const TARGETS = { ratio: 0.8, accuracyPct: 1, rssMb: 200 };

const { values: config } = await loadConfig({ cwd: process.cwd(), env: process.env });
const bootstrap = configuredEndpoints({ ...config, target: 'local' }).bootstrapServers;
const paths = stackPaths(expandHome(config.home, process.env));
const kafka = createKafka({ target: 'local', bootstrap: bootstrap.split(','), clientId: 'bench-produce' });
const admin = kafka.admin();
const prefix = `bench-${randomBytes(3).toString('hex')}-`;
const templateTopics = JSON.parse(readFileSync(new URL('../templates/topics.json', import.meta.url), 'utf8')).topics;
const created = [];
const newTopicSet = async () => {
  const set = `${prefix}${created.length}-`;
  // Broker append times, not the producer's event times: the accuracy figures measure what reached the broker.
  const topics = templateTopics
    .filter((t) => t.role === 'input')
    .map((t) => ({ ...t, name: set + t.name, configs: { ...t.configs, 'message.timestamp.type': 'LogAppendTime' } }));
  created.push(...(await ensureTopics(admin, topics)));
  return set;
};

/** Runs a child and samples its peak RSS (VmHWM) while it runs. */
function run(command, args, { collectStdout = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // the process has just exited
      }
    };
    const sampler = setInterval(sample, 100);
    child.stdout.setEncoding('utf8').on('data', (c) => {
      if (collectStdout) stdout += c;
      sample();
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000)}`));
      else resolve({ stdout, stderr, peakMb: peakKb / 1024 });
    });
  });
}

async function produce(args) {
  const result = await run(process.execPath, [
    CLI,
    'produce',
    '--target',
    'local',
    '--bootstrap-servers',
    bootstrap,
    '--trucks',
    '0',
    '--json',
    ...args,
  ]);
  return { ...JSON.parse(result.stdout), peakMb: result.peakMb };
}

/** ProducerPerformance lives in the kafka-tools jar, which `marketplace local install` puts next to the broker's jars. */
async function toolsClasspath() {
  const jars = await readdir(paths.kafkaLib).catch(() => []);
  const tools = (await readdir(paths.kafkaToolsLib).catch(() => [])).filter((j) => /^kafka-tools-[\d.]+\.jar$/.test(j));
  if (jars.length === 0 || tools.length === 0) {
    throw new Error(`no Kafka broker or kafka-tools jars under ${paths.lib}: run \`marketplace local install\``);
  }
  return `${paths.kafkaLib}/*:${join(paths.kafkaToolsLib, tools[0])}`;
}

async function producerPerformance(topic, records, recordSize) {
  const log4j = join(await mkdtemp(join(tmpdir(), 'bench-produce-')), 'log4j.properties');
  await writeFile(
    log4j,
    'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%p %m%n\n',
  );
  const { stdout, peakMb } = await run('java', [
    '-Xmx512m',
    `-Dlog4j.configuration=file:${log4j}`,
    '-cp',
    await toolsClasspath(),
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${bootstrap}`,
    'acks=all',
  ]);
  const final = stdout
    .trim()
    .split('\n')
    .filter((l) => / records sent, /.test(l))
    .pop();
  const match = /([\d.]+) records\/sec/.exec(final ?? '');
  if (!match) throw new Error(`no summary line from ProducerPerformance:\n${stdout.slice(-1000)}`);
  return { recordsPerSecond: Number(match[1]), line: final, peakMb };
}

/** Worst deviation from `rate` over every 10 s window (1 s steps) of the job_created timestamps, skipping the first second. */
async function rateAccuracy(topic, rate, seconds) {
  const timestamps = [];
  await scanTopic(kafka, topic, (r) => timestamps.push(r.timestamp), { timeoutMs: 300_000 });
  timestamps.sort((a, b) => a - b);
  const start = timestamps[0] + 1000;
  // Windows lie within the run: the last one ends at the last record, not past it.
  const end = Math.min(start + (seconds - 1) * 1000, timestamps[timestamps.length - 1] + 1);
  let worst = 0;
  let minRate = Infinity;
  let maxRate = 0;
  for (let from = start; from + 10_000 <= end; from += 1000) {
    const count = upperBound(timestamps, from + 10_000 - 1) - upperBound(timestamps, from - 1);
    const achieved = count / 10;
    minRate = Math.min(minRate, achieved);
    maxRate = Math.max(maxRate, achieved);
    worst = Math.max(worst, Math.abs(achieved - rate) / rate);
  }
  return { worstPct: worst * 100, minRate, maxRate, records: timestamps.length };
}

function upperBound(sorted, value) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
let ok = true;
await admin.connect();
try {
  console.log(`produce benchmark against ${bootstrap} (node ${process.version})`);

  // (a)
  const ours = await produce([
    '--rate',
    'max',
    '--duration',
    `${MAX_SECONDS}s`,
    '--topics',
    JOB_TOPICS,
    '--topic-prefix',
    await newTopicSet(),
  ]);
  const oursRate = ours.acked / (ours.durationMs / 1000);
  console.log(
    `(a) marketplace produce --rate max: ${ours.acked} records in ${(ours.durationMs / 1000).toFixed(1)} s = ${oursRate.toFixed(0)} records/s (${ours.jobsPerSecond} jobs/s), avg record ${ours.averageRecordBytes} B, ack p50 ${ours.ackLatencyMs.p50} ms p99 ${ours.ackLatencyMs.p99} ms`,
  );

  if (process.env.BENCH_THREADS_AB === '1') {
    const single = await produce([
      '--rate',
      'max',
      '--duration',
      `${MAX_SECONDS}s`,
      '--threads',
      '0',
      '--topics',
      JOB_TOPICS,
      '--topic-prefix',
      await newTopicSet(),
    ]);
    const singleRate = single.acked / (single.durationMs / 1000);
    console.log(
      `    A/B: the same with --threads 0: ${singleRate.toFixed(0)} records/s (threads ×${(oursRate / singleRate).toFixed(2)}), peak RSS ${single.peakMb.toFixed(0)} MB vs ${ours.peakMb.toFixed(0)} MB`,
    );
  }

  // (b) same record size, same broker, a topic as wide as the widest job topic
  const perfTopic = `${prefix}perf`;
  created.push(...(await ensureTopics(admin, [{ name: perfTopic, partitions: 6 }])));
  const perf = await producerPerformance(
    perfTopic,
    Math.max(100_000, Math.round(oursRate * MAX_SECONDS)),
    ours.averageRecordBytes,
  );
  const ratio = oursRate / perf.recordsPerSecond;
  console.log(
    `(b) kafka ProducerPerformance (acks=all, ${ours.averageRecordBytes} B records, one fixed payload): ${perf.recordsPerSecond.toFixed(0)} records/s`,
  );
  console.log(
    `    ratio marketplace / kafka = ${ratio.toFixed(2)} (target ≥ ${TARGETS.ratio}) ${verdict(ratio >= TARGETS.ratio)}`,
  );
  ok &&= ratio >= TARGETS.ratio;

  // (c)
  let peakMb = ours.peakMb;
  for (const rate of RATES) {
    const set = await newTopicSet();
    const result = await produce([
      '--rate',
      String(rate),
      '--duration',
      `${RATE_SECONDS + 1}s`,
      '--topics',
      RATE_TOPICS,
      '--topic-prefix',
      set,
    ]);
    peakMb = Math.max(peakMb, result.peakMb);
    const accuracy = await rateAccuracy(`${set}job_created`, rate, RATE_SECONDS + 1);
    const pass = accuracy.worstPct <= TARGETS.accuracyPct;
    ok &&= pass;
    console.log(
      `(c) --rate ${rate} for ${RATE_SECONDS} s (${RATE_TOPICS}): 10 s windows ${accuracy.minRate.toFixed(1)}–${accuracy.maxRate.toFixed(1)} jobs/s, worst ${accuracy.worstPct.toFixed(2)}% (target ±${TARGETS.accuracyPct}%) ${verdict(pass)}; ack p99 ${result.ackLatencyMs.p99} ms, RSS ${result.peakMb.toFixed(0)} MB`,
    );
  }

  // (d)
  const rssOk = peakMb < TARGETS.rssMb;
  ok &&= rssOk;
  console.log(
    `(d) peak RSS of marketplace produce: ${peakMb.toFixed(0)} MB (target < ${TARGETS.rssMb} MB) ${verdict(rssOk)}`,
  );
} finally {
  if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
}
console.log(ok ? 'all targets met' : 'some targets missed');
process.exitCode = ok ? 0 : 1;
