import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlinkJobs } from '../../src/flink-client/jobs.js';
import type { DemoResult } from '../../src/demo/result.js';
import type { StreamEngine } from '../../src/engines/engine.js';
import { openPage } from '../helpers/browser.js';
import { runCli, startCli, type CliRun } from '../helpers/cli.js';
import { flinkStack, flinkTargetEnv, type FlinkEndpoints } from '../helpers/flink.js';
import { eventually } from '../helpers/poll.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';
import { kafkaClient, readTopic, type KafkaTestClient, type RawRecord } from '../integration/ksqldb-server-support.js';

/**
 * The demo on Apache Flink through the real CLI, next to the ksqlDB dev server: one seeded workload gives the same
 * job_status on both engines and truck_tracker within rounding, the MongoDB sink works on Flink's output unchanged,
 * and up / plan / status / lineage / tail / flink / down work the Flink way.
 */
const JOBS = 300;
const prefix = 'flink-e2e';
const databases = {
  ksqldb: `flink_e2e_ksql_${randomBytes(3).toString('hex')}`,
  flink: `flink_e2e_flink_${randomBytes(3).toString('hex')}`,
};
let cwd: string;
let flink: FlinkEndpoints;
let kafka: KafkaTestClient;
let ksqlEnv: NodeJS.ProcessEnv;
let flinkEnv: NodeJS.ProcessEnv;

const cli = (args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<CliRun> =>
  runCli(args, { cwd, env, timeoutMs });
const json = <T>(run: CliRun): T => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
};

interface StatusRow {
  key: Buffer;
  value: Record<string, unknown>;
  timestamp: number;
}

const jobIdOf = (key: Buffer) => key.readBigInt64BE().toString();

/** job_status as it is in the topic once `count` rows are there, by job id. */
async function jobStatusRows(count: number): Promise<Map<string, StatusRow>> {
  const records = await eventually(
    async () => {
      const read = await readTopic(kafka, 'job_status');
      return read.length >= count ? read : undefined;
    },
    120_000,
    `${count} rows in job_status`,
  );
  expect(records).toHaveLength(count);
  return new Map(
    records.map((r: RawRecord) => [
      jobIdOf(r.key!),
      { key: r.key!, value: JSON.parse(r.value!.toString('utf8')), timestamp: r.timestamp },
    ]),
  );
}

/** truck_tracker's latest value per job id (the topic is compacted; the last record of a key is its row). */
async function truckTrackerRows(): Promise<Map<string, Record<string, unknown>>> {
  const rows = new Map<string, Record<string, unknown>>();
  for (const record of await readTopic(kafka, 'truck_tracker')) {
    const key = record.key!.toString('utf8');
    if (record.value === null) rows.delete(key);
    else rows.set(key, JSON.parse(record.value.toString('utf8')));
  }
  return rows;
}

/** Waits until truck_tracker has a row for every job a truck reported on. */
async function completeTruckTracker(): Promise<Map<string, Record<string, unknown>>> {
  const trucked = new Set<string>();
  for (const record of await readTopic(kafka, 'tradie_truck_location')) {
    trucked.add(String((JSON.parse(record.value!.toString('utf8')) as { JOB_ID: string }).JOB_ID));
  }
  expect(trucked.size).toBeGreaterThan(0);
  return eventually(
    async () => {
      const rows = await truckTrackerRows();
      return [...trucked].every((job) => rows.has(job)) ? rows : undefined;
    },
    120_000,
    'a truck_tracker row for every job a truck drove to',
  );
}

async function mongoDocuments(database: string, count: number): Promise<Map<string, unknown>> {
  const mongo = new MongoClient(stackEndpoints().ferretdb.uri);
  try {
    await mongo.connect();
    const collection = mongo.db(database).collection('job_status');
    const documents = await eventually(
      async () => {
        const found = await collection.find().toArray();
        return found.length >= count ? found : undefined;
      },
      120_000,
      `${count} documents in ${database}.job_status`,
    );
    return new Map(documents.map((d) => [String((d._id as unknown as { JOB_ID: unknown }).JOB_ID), d.CURRENT_STATUS]));
  } finally {
    await mongo.close();
  }
}

beforeAll(async () => {
  const stack = stackEndpoints();
  flink = await flinkStack();
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-flink-e2e-'));
  ksqlEnv = { ...localTargetEnv(stack, { prefix, database: databases.ksqldb }), MARKETPLACE_ENGINE: 'ksqldb' };
  flinkEnv = flinkTargetEnv(stack, flink, { prefix, database: databases.flink });
  kafka = await kafkaClient();
  // Leftovers of an earlier run that died would be adopted and skew the counts below.
  await cli(['down', '--yes', '--discover'], flinkEnv);
  await cli(['down', '--yes', '--discover'], ksqlEnv);
});

afterAll(async () => {
  await cli(['down', '--yes', '--discover'], flinkEnv);
  const mongo = new MongoClient(stackEndpoints().ferretdb.uri);
  try {
    await mongo.connect();
    for (const database of Object.values(databases)) await mongo.db(database).dropDatabase();
  } finally {
    await mongo.close();
  }
  await kafka?.close();
});

/** The expected status of each job id, from the input topics: ACCEPTED when the quote covers the price. */
async function expectedStatuses(): Promise<Map<string, { status: string; price: number }>> {
  const prices = new Map<string, number>();
  for (const record of await readTopic(kafka, 'job_created')) {
    const job = JSON.parse(record.value!.toString('utf8')) as { job_id: number; price: number };
    prices.set(String(job.job_id), job.price);
  }
  const expected = new Map<string, { status: string; price: number }>();
  for (const record of await readTopic(kafka, 'order_placed')) {
    const order = JSON.parse(record.value!.toString('utf8')) as { job_id: number; price_quoted: number };
    const price = prices.get(String(order.job_id))!;
    expected.set(String(order.job_id), { status: order.price_quoted >= price ? 'ACCEPTED' : 'REJECTED', price });
  }
  return expected;
}

/** Replaces a topic by an empty one (as `up` would create it). */
async function emptyTopic(topic: string, numPartitions: number, configs: Record<string, string> = {}): Promise<void> {
  await kafka.admin.deleteTopics({ topics: [topic] });
  await eventually(
    async () => ((await kafka.admin.listTopics()).includes(topic) ? undefined : true),
    30_000,
    `${topic} to be deleted`,
  );
  await eventually(
    async () =>
      kafka.admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions,
              configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
            },
          ],
        })
        .then(
          () => true,
          () => undefined,
        ),
    30_000,
    `${topic} to be created again`,
  );
}

describe('the Flink engine, end to end', () => {
  let flinkStatus: Map<string, StatusRow>;

  it('one seeded workload: the same job_status on both engines, truck_tracker within rounding, Mongo on both', async () => {
    // The workload is produced once; ksqlDB processes it first.
    json(await cli(['up', '--json'], ksqlEnv));
    const produced = json<{ jobs: number; errors: number }>(
      await cli(
        [
          ...['produce', '--count', String(JOBS), '--rate', '150', '--trucks', '4', '--truck-interval', '200ms'],
          ...['--seed', '42', '--json'],
        ],
        ksqlEnv,
      ),
    );
    expect(produced).toMatchObject({ jobs: JOBS, errors: 0 });
    // Two orders far from their jobs, by hand: 30 minutes before its job (inside ksqlDB's WITHIN 1 HOUR, which
    // counts either side) and 61 minutes after (outside).
    const now = Date.now();
    const job = (id: number) => ({
      key: String(id),
      value: JSON.stringify({ job_id: id, job_start_date: 'x', job_end_date: 'y', price: 100, job_status: 'x' }),
      timestamp: String(now),
    });
    const order = (id: number, offsetMs: number) => ({
      key: String(id),
      value: JSON.stringify({
        job_id: id,
        customer_id: 'c',
        service_option: 's',
        contractor_id: 'x',
        location: 'l',
        price_quoted: 150,
      }),
      timestamp: String(now + offsetMs),
    });
    await kafka.producer.send({ topic: 'job_created', messages: [job(1), job(2)] });
    await kafka.producer.send({ topic: 'order_placed', messages: [order(1, -30 * 60_000), order(2, 61 * 60_000)] });
    const expected = await expectedStatuses();
    expected.delete('2');
    expect(expected.size).toBe(JOBS + 1);
    const ksqlStatus = await jobStatusRows(JOBS + 1);
    expect(ksqlStatus.get('1')?.value).toMatchObject({ CURRENT_STATUS: 'ACCEPTED', PRICE: 100 });
    const ksqlTrucks = await completeTruckTracker();
    const ksqlMongo = await mongoDocuments(databases.ksqldb, JOBS + 1);

    // Then Flink, over the same input topics: ksqlDB's statements go, its output topics and the sink start empty.
    const queries = json<{ queries: { id: string }[] }>(await cli(['ksql', 'list', '--json'], ksqlEnv)).queries;
    const drops = ['TRUCK_TRACKER', 'JOB_STATUS', 'VEHICLES', 'JOBLOCATION', 'JOBS_CREATED', 'ORDERS_PLACED'];
    const dropped = await cli(
      [
        'ksql',
        [
          ...queries.map((q) => `TERMINATE ${q.id};`),
          ...drops.map((name) => `DROP ${/TRUCK|JOBLOCATION/.test(name) ? 'TABLE' : 'STREAM'} ${name};`),
        ].join(' '),
      ],
      ksqlEnv,
    );
    expect(dropped.code, dropped.stderr).toBe(0);
    const connect = stackEndpoints().connect.url;
    await fetch(`${connect}/connectors/${prefix}-mongo-sink`, { method: 'DELETE' });
    await eventually(
      async () => {
        const groups = (await kafka.admin.listGroups()).groups.map((g) => g.groupId);
        if (!groups.includes(`connect-${prefix}-mongo-sink`)) return true;
        return kafka.admin.deleteGroups([`connect-${prefix}-mongo-sink`]).then(
          () => true,
          () => undefined,
        );
      },
      60_000,
      "the sink's consumer group to go",
    );
    await emptyTopic('job_status', 1);
    await emptyTopic('truck_tracker', 6, { 'cleanup.policy': 'compact' });

    const up = json<{ created: string[] }>(await cli(['up', '--json'], flinkEnv));
    expect(up.created.sort()).toEqual(['flink-jobs', 'mongo-sink-connector']);
    flinkStatus = await jobStatusRows(JOBS + 1);

    // job_status: the same rows, byte for byte in the key, value for value, with ksqlDB's record timestamps.
    expect([...flinkStatus.keys()].sort()).toEqual([...ksqlStatus.keys()].sort());
    for (const [jobId, row] of flinkStatus) {
      const ksql = ksqlStatus.get(jobId)!;
      expect(row.key.equals(ksql.key), `key of ${jobId}`).toBe(true);
      expect(row.value, `value of ${jobId}`).toEqual(ksql.value);
      expect(row.timestamp, `timestamp of ${jobId}`).toBe(ksql.timestamp);
      expect(row.value).toMatchObject({
        CURRENT_STATUS: expected.get(jobId)!.status,
        PRICE: expected.get(jobId)!.price,
      });
    }

    // truck_tracker: the same latest position per job; distance and ETA agree to the rounding of 2 places.
    const flinkTrucks = await completeTruckTracker();
    expect([...flinkTrucks.keys()].sort()).toEqual([...ksqlTrucks.keys()].sort());
    for (const [jobId, row] of flinkTrucks) {
      const ksql = ksqlTrucks.get(jobId)!;
      for (const column of ['VEHICLE_ID', 'LAT', 'LONG', 'DEST_LAT', 'DEST_LONG']) {
        expect(row[column], `${column} of job ${jobId}`).toEqual(ksql[column]);
      }
      for (const column of ['DISTANCE_FROM_DESTINATION', 'ETA_SECONDS']) {
        expect(Math.abs(Number(row[column]) - Number(ksql[column])), `${column} of job ${jobId}`).toBeLessThanOrEqual(
          0.0100001,
        );
      }
    }

    // The MongoDB sink, unchanged, stores Flink's rows as it stored ksqlDB's.
    expect(await mongoDocuments(databases.flink, JOBS + 1)).toEqual(ksqlMongo);
  });

  it('up again changes nothing; plan, status, lineage, tail and flink show the jobs', async () => {
    const again = json<{ nothingToDo: boolean; unchanged: string[] }>(await cli(['up', '--json'], flinkEnv));
    expect(again.nothingToDo).toBe(true);
    expect(again.unchanged).toContain('flink-jobs');
    expect(json<{ changes: number }>(await cli(['plan', '--json'], flinkEnv)).changes).toBe(0);
    // ksqlDB would write the same topics: up refuses while the Flink jobs run, and changes nothing.
    const second = await cli(['up', '--json'], { ...flinkEnv, MARKETPLACE_ENGINE: 'ksqldb' });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/the demo already runs on Apache Flink here, and ksqlDB would write the same topics/);
    expect(second.stderr).toContain('marketplace down --target local --yes');

    const status = json<{ engine: string; healthy: boolean; queries: { name?: string; state: string }[] }>(
      await cli(['status', '--json'], flinkEnv),
    );
    expect(status).toMatchObject({ engine: 'flink', healthy: true });
    expect(status.queries.map((q) => [q.name, q.state]).sort()).toEqual([
      ['job_status', 'RUNNING'],
      ['truck_tracker', 'RUNNING'],
    ]);

    const graph = json<{
      nodes: { id: string; kind: string; status?: string }[];
      edges: { from: string; to: string }[];
    }>(await cli(['lineage', '--json'], flinkEnv));
    const jobNode = graph.nodes.find((n) => n.kind === 'query' && n.id.startsWith('query:job_status#'))!;
    expect(jobNode.status).toBe('RUNNING');
    for (const edge of [
      { from: 'topic:job_created', to: 'stream:jobs_created' },
      { from: 'stream:jobs_created', to: jobNode.id },
      { from: 'stream:orders_placed', to: jobNode.id },
      { from: jobNode.id, to: 'stream:job_status' },
      { from: 'stream:job_status', to: 'topic:job_status' },
      { from: 'topic:job_status', to: `connector:${prefix}-mongo-sink` },
      { from: 'table:joblocation', to: expect.stringMatching(/^query:truck_tracker#/) },
    ]) {
      expect(graph.edges).toContainEqual(edge);
    }

    const tailed = await cli(
      ['tail', 'job_status', '--from-beginning', '--limit', String(JOBS + 1), '--format', 'jsonl'],
      flinkEnv,
    );
    expect(tailed.code, tailed.stderr).toBe(0);
    const rows = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const repeated = (tailedRows: Record<string, unknown>[]) =>
      tailedRows.length - new Set(tailedRows.map((row) => String(row.JOB_ID))).size;
    expect(repeated(rows), 'job ids the Flink SELECT gave twice').toBe(0);
    expect(new Map(rows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(
      new Map([...flinkStatus].map(([jobId, row]) => [jobId, row.value.CURRENT_STATUS])),
    );
    expect(Object.keys(rows[0]!)).toEqual(['JOB_ID', 'CUSTOMER_ID', 'SERVICE_OPTION', 'PRICE', 'CURRENT_STATUS']);
    // --via kafka reads the topic itself; the Flink table names its key column (a BIGINT JOB_ID, not a bare KEY).
    const viaKafka = await cli(
      ['tail', 'job_status', '--via', 'kafka', '--from-beginning', '--limit', String(JOBS + 1), '--format', 'jsonl'],
      flinkEnv,
    );
    expect(viaKafka.code, viaKafka.stderr).toBe(0);
    const kafkaRows = viaKafka.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(repeated(kafkaRows), 'job ids the topic gave twice').toBe(0);
    expect(new Map(kafkaRows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(
      new Map([...flinkStatus].map(([jobId, row]) => [jobId, row.value.CURRENT_STATUS])),
    );
    // tail's SELECT was cancelled when it ended: only the demo's jobs run.
    const jobs = new FlinkJobs({ url: flink.restUrl });
    await eventually(
      async () =>
        (await jobs.list()).every(
          (job) => job.name.startsWith('marketplace:') || !['RUNNING', 'CREATED', 'INITIALIZING'].includes(job.state),
        )
          ? true
          : undefined,
      30_000,
      "tail's query job to end",
    );

    const selected = json<{ steps: { rowCount: number; columns: string[] }[] }>(
      await cli(
        [
          'flink',
          "SELECT JOB_ID, CURRENT_STATUS FROM job_status /*+ OPTIONS('scan.startup.mode'='earliest-offset') */;",
          '--max-rows',
          '5',
          '--json',
        ],
        flinkEnv,
      ),
    );
    expect(selected.steps).toHaveLength(1);
    expect(selected.steps[0]).toMatchObject({ rowCount: 5, columns: ['JOB_ID', 'CURRENT_STATUS'] });
    const refused = await cli(['flink', 'SELECT 1;\nSELECT * FROM no_such_table;'], flinkEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Error: statement:2:15: Flink: Object 'no_such_table' not found/);
    expect(refused.stderr.split('\n').filter((line) => line.includes('Error:'))).toHaveLength(1);
  });

  it('a changed statement replaces its job from a savepoint: state and offsets carry over', async () => {
    // Run job_status with another statement (everything REJECTED), as if the template had been edited.
    const dir = await mkdtemp(join(tmpdir(), 'marketplace-flink-templates-'));
    await cp(new URL('../../templates/flink/', import.meta.url), dir, { recursive: true });
    const file = join(dir, '03-job-status.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace('o.price_quoted >= j.price', 'o.price_quoted < 0'));
    const { loadConfig } = await import('../../src/core/config.js');
    const { flinkEngine } = await import('../../src/engines/flink/index.js');
    const { SecretRegistry } = await import('../../src/core/redact.js');
    const { systemClock } = await import('../../src/core/waiter.js');
    let edited: StreamEngine | undefined;
    try {
      edited = await flinkEngine({
        loaded: await loadConfig({ cwd, env: flinkEnv }),
        ctx: { env: flinkEnv, secrets: new SecretRegistry(), signal: new AbortController().signal, clock: systemClock },
        templatesDir: dir,
      });
      expect(await edited.apply({})).toEqual({ created: [], replaced: ['job_status'], existing: ['truck_tracker'] });
    } finally {
      await edited?.close();
      await rm(dir, { recursive: true, force: true });
    }
    const jobs = new FlinkJobs({ url: flink.restUrl });
    const running = async () =>
      (await jobs.list()).find((job) => job.state === 'RUNNING' && job.name.startsWith('marketplace:job_status:'))!;
    const editedJob = await running();
    expect((await jobs.checkpoints(editedJob.id)).restoredFrom).toMatch(/savepoint-/);

    // plan sees the job's statement differ from the template.
    const plan = json<{ steps: { id: string; action: string; changes?: string[] }[] }>(
      await cli(['plan', '--json'], flinkEnv),
    );
    expect(plan.steps.find((step) => step.id === 'flink-jobs')).toMatchObject({
      action: 'update',
      changes: ['job_status: statement changed'],
    });

    // New jobs reach the edited job's state; their orders come only after up has put the template's statement back.
    const seeded = ['--count', '20', '--rate', '50', '--trucks', '0', '--seed', '77', '--json'];
    json(await cli(['produce', '--topics', 'job_created', ...seeded], flinkEnv));
    const checkpointed = (await jobs.checkpoints(editedJob.id)).completed;
    await eventually(
      async () => ((await jobs.checkpoints(editedJob.id)).completed >= checkpointed + 2 ? true : undefined),
      60_000,
      'two checkpoints of the edited job after the new jobs',
    );
    const up = json<{ updated: string[] }>(await cli(['up', '--json'], flinkEnv));
    expect(up.updated).toEqual(['flink-jobs']);
    const restored = await running();
    expect(restored.id).not.toBe(editedJob.id);
    expect((await jobs.checkpoints(restored.id)).restoredFrom).toMatch(/savepoint-/);
    expect(json<{ healthy: boolean }>(await cli(['status', '--json'], flinkEnv)).healthy).toBe(true);
    // Retention: the replaced jobs' checkpoints are deleted; only running jobs keep theirs.
    const runningIds = new Set((await jobs.list()).filter((job) => job.state === 'RUNNING').map((job) => job.id));
    const checkpointDirs = await readdir(join(flink.home, 'data', 'flink', 'checkpoints'));
    expect(checkpointDirs).not.toContain(editedJob.id);
    expect(checkpointDirs.filter((dir) => !runningIds.has(dir))).toEqual([]);

    json(await cli(['produce', '--topics', 'order_placed', ...seeded], flinkEnv));
    const expected = await expectedStatuses();
    const all = await jobStatusRows(JOBS + 1 + 20);
    const added = [...all.keys()].filter((jobId) => !flinkStatus.has(jobId));
    expect(added).toHaveLength(20);
    // The template's statement decided them (some quotes cover the price), joining jobs the old job had read.
    for (const jobId of added) expect(all.get(jobId)!.value.CURRENT_STATUS).toBe(expected.get(jobId)!.status);
    expect(added.some((jobId) => expected.get(jobId)!.status === 'ACCEPTED')).toBe(true);
  });

  it('down stops the jobs and leaves nothing of the demo', async () => {
    const down = json<{ remaining: string[]; deleted: string[] }>(await cli(['down', '--yes', '--json'], flinkEnv));
    expect(down.remaining).toEqual([]);
    expect(down.deleted).toEqual(expect.arrayContaining(['flink-jobs', 'ksql-statements', 'mongo-sink-connector']));
    const jobs = new FlinkJobs({ url: flink.restUrl });
    expect((await jobs.list()).filter((job) => job.name.startsWith('marketplace:') && job.state === 'RUNNING')).toEqual(
      [],
    );
    const kept = JSON.parse(await readFile(join(flink.home, 'data', 'flink', 'jobs.json'), 'utf8')) as {
      jobs: Record<string, unknown>;
    };
    expect(Object.keys(kept.jobs).filter((name) => ['job_status', 'truck_tracker'].includes(name))).toEqual([]);
  });

  it('demo --engine flink --dashboard runs the whole demo on Flink, shows its jobs, and cleans up', async () => {
    const demo = startCli(['demo', '--duration', '10s', '--rate', '20', '--dashboard', '--json'], {
      cwd,
      env: flinkEnv,
      timeoutMs: 400_000,
    });
    try {
      await demo.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//, { timeoutMs: 300_000 });
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.stderr())![1]!;
      const browser = await openPage(url);
      try {
        const page = browser.page;
        await page.waitForSelector('#link[data-state="live"]');
        expect((await page.textContent('#meta-engine'))?.trim()).toBe('Apache Flink');
        // The flow shows the two Flink jobs, running, between the tables they read and write.
        const jobs = async () =>
          (
            await page.$$eval('#flow [data-kind="query"]', (els) =>
              els.map((e) => `${e.dataset.node} ${e.querySelector('.detail')?.textContent}`),
            )
          ).sort();
        await eventually(async () => ((await jobs()).length === 2 ? true : undefined), 120_000, 'the Flink jobs');
        expect(await jobs()).toEqual([
          expect.stringMatching(/^query:job_status#[0-9a-f]{8} RUNNING$/),
          expect.stringMatching(/^query:truck_tracker#[0-9a-f]{8} RUNNING$/),
        ]);
        const flowNodes = await page.$$eval('#flow [data-node]', (els) => els.map((e) => e.dataset.node));
        expect(flowNodes).toEqual(expect.arrayContaining(['stream:job_status', 'table:truck_tracker']));
        await eventually(
          async () =>
            (await page.getAttribute('#components [data-component="Apache Flink"]', 'class')) === 'up'
              ? true
              : undefined,
          60_000,
          'Apache Flink healthy on the page',
        );
        expect(await page.textContent('#components [data-component="Apache Flink"] .note')).toBe('jobs running');
        await demo.waitFor(/the dashboard stays at http/, { timeoutMs: 180_000 });
        expect(browser.errors).toEqual([]);
      } finally {
        await browser.close();
      }
      demo.kill('SIGINT');
      const run = await demo.done;
      expect(run.code, run.stderr).toBe(130);
      const summary = JSON.parse(run.stdout) as DemoResult;
      expect(summary.jobs).toBeGreaterThanOrEqual(150);
      expect(summary.jobStatus.rows).toBe(summary.jobs);
      expect(summary.mongoDocuments).toBe(summary.jobStatus.rows);
      expect(summary.truckTrackerRows).toBeGreaterThan(0);
      expect(summary.kept).toBe(false);
    } finally {
      demo.kill('SIGKILL');
    }
    const jobs = new FlinkJobs({ url: flink.restUrl });
    expect((await jobs.list()).filter((job) => job.name.startsWith('marketplace:') && job.state === 'RUNNING')).toEqual(
      [],
    );
  });
});
