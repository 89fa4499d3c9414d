import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readTopic, scanTopic } from '../../src/kafka/consumer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { CLI, runCli, type CliRun } from '../helpers/cli.js';
import { stackEndpoints } from '../helpers/stack.js';
import type { ProduceResult } from '../../src/producers/produce-run.js';

const TOPICS = [
  { name: 'job_created', partitions: 1 },
  { name: 'order_placed', partitions: 1 },
  { name: 'joblocation', partitions: 6 },
  { name: 'tradie_truck_location', partitions: 6 },
];
const JOB_TOPICS = 'job_created,order_placed,joblocation';

let kafka: Kafka;
let admin: Admin;
let bootstrap: string;
let cwd: string;
const created: string[] = [];

/**
 * A private copy of the four input topics under a unique prefix: other suites share the broker. The broker stamps
 * each record with its append time, so rates measured from timestamps are what reached the broker, not the
 * producer's own event times.
 */
async function topicSet(): Promise<string> {
  const prefix = `produce-${randomBytes(4).toString('hex')}-`;
  const appendTime = { 'message.timestamp.type': 'LogAppendTime' };
  created.push(
    ...(await ensureTopics(
      admin,
      TOPICS.map((t) => ({ ...t, name: prefix + t.name, configs: appendTime })),
    )),
  );
  return prefix;
}

function produce(args: string[], timeoutMs = 120_000): Promise<CliRun> {
  return runCli(['produce', '--target', 'local', '--bootstrap-servers', bootstrap, ...args], { cwd, timeoutMs });
}

function summaryOf(run: CliRun) {
  return JSON.parse(run.stdout) as ProduceResult;
}

beforeAll(async () => {
  bootstrap = stackEndpoints().kafka.plaintext;
  kafka = createKafka({ target: 'local', bootstrap: [bootstrap], clientId: 'produce-test' });
  admin = kafka.admin();
  await admin.connect();
  cwd = await mkdtemp(join(tmpdir(), 'produce-it-'));
});

afterAll(async () => {
  if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin?.disconnect();
});

describe('marketplace produce (real broker)', () => {
  it('--count 10000 puts exactly 10,000 records on each chosen topic, keyed by job id', async () => {
    const prefix = await topicSet();
    const run = await produce([
      '--count',
      '10000',
      '--rate',
      'max',
      '--topics',
      JOB_TOPICS,
      '--topic-prefix',
      prefix,
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    const summary = summaryOf(run);
    expect(summary.stoppedBy).toBe('count');
    expect(summary.jobs).toBe(10_000);
    expect(summary.errors).toBe(0);
    expect(summary.topics.map((t) => t.acked)).toEqual([10_000, 10_000, 10_000]);

    const jobs = await readTopic(kafka, `${prefix}job_created`);
    const orders = await readTopic(kafka, `${prefix}order_placed`);
    const locations = await readTopic(kafka, `${prefix}joblocation`);
    for (const records of [jobs, orders, locations]) {
      expect(records).toHaveLength(10_000);
      expect(new Set(records.map((r) => r.key)).size).toBe(10_000);
    }
    const jobIds = new Set(jobs.map((r) => (JSON.parse(r.value!) as { job_id: number }).job_id));
    for (const record of jobs)
      expect(record.key).toBe(String((JSON.parse(record.value!) as { job_id: number }).job_id));
    for (const record of orders) expect(jobIds.has(Number(record.key))).toBe(true);
    // joblocation: key = job id as plain UTF-8, partitioned like the Java client (ksqlDB co-partitioning)
    const partitioner = Partitioners.DefaultPartitioner()!;
    const partitionMetadata = Array.from({ length: 6 }, (_, i) => ({
      partitionId: i,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));
    for (const record of locations) {
      expect(record.key).toMatch(/^\d+$/);
      expect(jobIds.has(Number(record.key))).toBe(true);
      expect(record.partition).toBe(
        partitioner({ topic: record.topic, partitionMetadata, message: { key: record.key, value: null } }),
      );
    }
    expect(new Set(locations.map((r) => r.partition)).size).toBe(6);
  });

  it('every record carries its event time as its Kafka timestamp, uncompressed and with --compression gzip', async () => {
    for (const codec of ['none', 'gzip']) {
      // CreateTime topics: the broker keeps the producer's timestamps.
      const prefix = `produce-${randomBytes(4).toString('hex')}-`;
      created.push(
        ...(await ensureTopics(
          admin,
          TOPICS.map((t) => ({ ...t, name: prefix + t.name })),
        )),
      );
      const run = await produce([
        '--count',
        '3000',
        '--rate',
        '1500',
        '--compression',
        codec,
        '--topics',
        JOB_TOPICS,
        '--topic-prefix',
        prefix,
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const locations = await readTopic(kafka, `${prefix}joblocation`);
      expect(locations).toHaveLength(3000);
      const started = Date.now() - 120_000;
      for (const record of locations) {
        const value = JSON.parse(record.value!) as { REPORTING_TIME: number };
        expect(record.timestamp, codec).toBe(value.REPORTING_TIME);
        expect(record.timestamp).toBeGreaterThan(started);
      }
      // The jobs were spread over about two seconds at 1,500 jobs/s, not stamped all at once.
      const times = locations.map((r) => r.timestamp);
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(1000);
      const orders = await readTopic(kafka, `${prefix}order_placed`);
      expect(new Set(orders.map((r) => r.key))).toEqual(new Set(locations.map((r) => r.key)));
    }
  });

  it('trucks report positions keyed by vehicle id, heading to real jobs', async () => {
    const prefix = await topicSet();
    const run = await produce([
      '--duration',
      '3s',
      '--rate',
      '20',
      '--trucks',
      '3',
      '--truck-interval',
      '200ms',
      '--topic-prefix',
      prefix,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const trucks = await readTopic(kafka, `${prefix}tradie_truck_location`);
    const jobKeys = new Set((await readTopic(kafka, `${prefix}joblocation`)).map((r) => r.key));
    expect(new Set(trucks.map((r) => r.key))).toEqual(new Set(['TRUCK-0001', 'TRUCK-0002', 'TRUCK-0003']));
    expect(trucks.length).toBeGreaterThan(20);
    for (const record of trucks) {
      const value = JSON.parse(record.value!) as { JOB_ID: string; STATE: string; LAT: number; LONG: number };
      expect(jobKeys.has(value.JOB_ID)).toBe(true);
      expect(['EN_ROUTE', 'ARRIVED']).toContain(value.STATE);
    }
  });

  it('the same --seed produces the same jobs and orders', async () => {
    const [a, b] = [await topicSet(), await topicSet()];
    for (const prefix of [a, b]) {
      const run = await produce([
        '--count',
        '300',
        '--rate',
        'max',
        '--seed',
        '4242',
        '--topics',
        'job_created,order_placed',
        '--topic-prefix',
        prefix,
      ]);
      expect(run.code).toBe(0);
    }
    for (const topic of ['job_created', 'order_placed']) {
      const first = (await readTopic(kafka, a + topic)).map((r) => [r.key, r.value]);
      const second = (await readTopic(kafka, b + topic)).map((r) => [r.key, r.value]);
      expect(first).toHaveLength(300);
      expect(second).toEqual(first);
    }
  });

  it('producer threads and the main thread make the same records: each thread regenerates the same jobs', async () => {
    const sets = { 0: await topicSet(), 2: await topicSet(), 3: await topicSet() };
    for (const [threads, prefix] of Object.entries(sets)) {
      const run = await produce([
        '--count',
        '2000',
        '--rate',
        'max',
        '--seed',
        '77',
        '--trucks',
        '2',
        '--truck-interval',
        '100ms',
        '--threads',
        threads,
        '--topic-prefix',
        prefix,
        '--json',
      ]);
      expect(run.code).toBe(0);
      expect(
        summaryOf(run)
          .topics.slice(0, 3)
          .map((t) => t.acked),
      ).toEqual([2000, 2000, 2000]);
    }
    // everything but joblocation's REPORTING_TIME (the wall-clock time of the job) is a function of the seed
    const read = async (prefix: string, topic: string) =>
      (await readTopic(kafka, prefix + topic))
        .map((r) => `${r.key} ${r.value!.replace(/"REPORTING_TIME":\d+/, '')}`)
        .sort();
    for (const topic of ['job_created', 'order_placed', 'joblocation']) {
      const main = await read(sets[0], topic);
      expect(main).toHaveLength(2000);
      expect(await read(sets[2], topic)).toEqual(main);
      expect(await read(sets[3], topic)).toEqual(main);
    }
    // trucks drive to the jobs their own thread generated: every report names a job of the same run
    const jobKeys = new Set((await readTopic(kafka, `${sets[3]}job_created`)).map((r) => r.key));
    const trucks = await readTopic(kafka, `${sets[3]}tradie_truck_location`);
    expect(trucks.length).toBeGreaterThan(0);
    for (const record of trucks)
      expect(jobKeys.has((JSON.parse(record.value!) as { JOB_ID: string }).JOB_ID)).toBe(true);
  });

  it.each([100, 2000])('holds --rate %i over 10 s, measured from broker timestamps', async (rate) => {
    const prefix = await topicSet();
    const run = await produce([
      '--duration',
      '12s',
      '--rate',
      String(rate),
      '--topics',
      JOB_TOPICS,
      '--topic-prefix',
      prefix,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const timestamps: number[] = [];
    await scanTopic(kafka, `${prefix}job_created`, (r) => timestamps.push(r.timestamp));
    const start = Math.min(...timestamps) + 1000;
    const inWindow = timestamps.filter((t) => t >= start && t < start + 10_000).length;
    // The rate a user asked for, not a speed target: a band wide enough for a loaded 2-core machine (where a stall is
    // caught up within the window) that still fails on a wrong unit or a rate applied per topic; the ±1% target is
    // bench:produce's.
    expect(inWindow / 10).toBeGreaterThan(rate * 0.8);
    expect(inWindow / 10).toBeLessThan(rate * 1.2);
  });

  // On the main thread (--rate 500 is below the threads' threshold), on three producer threads, and at full speed
  // with the default (one producer thread per job topic, at most the cores less one).
  it.each([
    ['500', []],
    ['2000', ['--threads', '3']],
    ['max', []],
  ])(
    'SIGINT mid-run at --rate %s %j: exits 130 with a summary, every acknowledged record is in the topic exactly once',
    async (rate, extra) => {
      const prefix = await topicSet();
      const child = spawn(
        process.execPath,
        [
          CLI,
          'produce',
          '--target',
          'local',
          '--bootstrap-servers',
          bootstrap,
          '--rate',
          rate,
          ...extra,
          '--topics',
          JOB_TOPICS,
          '--topic-prefix',
          prefix,
          '--json',
        ],
        { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Interrupt once producing is well under way (thread start-up takes a while on a busy machine).
      const started = Date.now();
      while (Date.now() - started < 60_000) {
        // a fresh topic's leader may not be known yet: ask again
        const offsets = await admin.fetchTopicOffsets(`${prefix}job_created`).catch(() => []);
        if (offsets.reduce((sum, p) => sum + Number(p.high), 0) >= 1000) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      child.kill('SIGINT');
      const code = await exited;
      expect(stderr).toMatch(/Stopping/);
      expect(code).toBe(130);
      const summary = JSON.parse(stdout) as ReturnType<typeof summaryOf>;
      expect(summary.stoppedBy).toBe('interrupted');
      expect(summary.errors).toBe(0);
      expect(summary.acked).toBe(summary.sent);
      expect(summary.jobs).toBeGreaterThanOrEqual(1000);
      for (const topic of summary.topics) {
        const records = await readTopic(kafka, topic.name);
        expect(records.length).toBe(topic.acked);
        expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
        // every job got its order, even those whose order delay had not passed at Ctrl-C
        expect(records.length).toBe(summary.jobs);
      }
    },
  );

  it('missing topics: exit 2 naming the topics and `marketplace up`', async () => {
    const run = await produce([
      '--count',
      '1',
      '--topic-prefix',
      'no-such-prefix-',
      '--topics',
      'job_created,joblocation',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"no-such-prefix-job_created", "no-such-prefix-joblocation" do not exist/);
    expect(run.stderr).toMatch(/marketplace up/);
  });

  it('broker unreachable: a clear error within the connection timeout, exit 1', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const started = Date.now();
    const run = await runCli(
      ['produce', '--target', 'local', '--bootstrap-servers', `127.0.0.1:${port}`, '--count', '1'],
      { cwd },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach Kafka at 127.0.0.1:${port}`);
    expect(run.stderr).toMatch(/marketplace local start/);
  });
});
