import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readTopic } from '../../src/kafka/consumer.js';
import { KsqlClient } from '../../src/ksql-client/client.js';
import type { DownResult } from '../../src/commands/down.js';
import type { LineageResult } from '../../src/commands/lineage.js';
import type { PlanResult } from '../../src/commands/plan.js';
import type { SinkVerifyResult } from '../../src/commands/sink.js';
import type { StatusResult } from '../../src/commands/status.js';
import type { UpResult } from '../../src/commands/up.js';
import type { ProduceResult } from '../../src/producers/produce-run.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';

/**
 * The whole local target through the real CLI: up → produce → tail (push query and topic) → MongoDB sink →
 * truck_tracker → lineage → down, against the real local stack and the ksqlDB dev server.
 */
const JOBS = 500;
const prefix = 'pipeline-e2e';
const database = `pipeline_${randomBytes(3).toString('hex')}`;
let cwd: string;
let env: NodeJS.ProcessEnv;

const cli = (args: string[], timeoutMs = 180_000): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs });
const json = <T>(run: CliRun): T => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
};

beforeAll(async () => {
  const stack = stackEndpoints();
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-pipeline-'));
  env = localTargetEnv(stack, { prefix, database });
  // Leftovers of an earlier run that died would be adopted and skew the counts below.
  await cli(['down', '--yes', '--discover']);
});

afterAll(async () => {
  await cli(['down', '--yes', '--discover']);
});

describe('local target, end to end', () => {
  it('up creates every resource; a second up and plan change nothing', async () => {
    const first = json<UpResult>(await cli(['up', '--json']));
    expect(first.created.sort()).toEqual(
      [
        'ksql-statements',
        'mongo-sink-connector',
        'topic:job_created',
        'topic:job_status',
        'topic:joblocation',
        'topic:order_placed',
        'topic:tradie_truck_location',
        'topic:truck_tracker',
      ].sort(),
    );
    const state = join(cwd, '.marketplace', 'state.json');
    expect((await stat(state)).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(await readFile(state, 'utf8')).resources)).toHaveLength(8);

    const second = json<UpResult>(await cli(['up', '--json']));
    expect(second.nothingToDo).toBe(true);
    expect(second.unchanged).toHaveLength(8);
    const plan = json<PlanResult>(await cli(['plan', '--json']));
    expect(plan.changes).toBe(0);
    const status = await cli(['status', '--json']);
    const report = json<StatusResult>(status);
    expect(report.healthy).toBe(true);
    expect(report.queries.length).toBeGreaterThanOrEqual(2);
  });

  it(`${JOBS} jobs: job_status, the topic, MongoDB and truck_tracker all agree with what was produced`, async () => {
    const stack = stackEndpoints();
    const produced = json<ProduceResult>(
      await cli([
        'produce',
        '--count',
        String(JOBS),
        '--rate',
        '250',
        '--trucks',
        '4',
        '--truck-interval',
        '200ms',
        '--seed',
        '42',
        '--json',
      ]),
    );
    expect(produced).toMatchObject({ jobs: JOBS, errors: 0 });

    // What the generator decided, read back from the input topics: ACCEPTED when the quote covers the price.
    const kafka = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'pipeline-test' });
    const prices = new Map<string, number>();
    for (const record of await readTopic(kafka, 'job_created')) {
      const job = JSON.parse(record.value!) as { job_id: number; price: number };
      prices.set(String(job.job_id), job.price);
    }
    const expected = new Map<string, string>();
    for (const record of await readTopic(kafka, 'order_placed')) {
      const order = JSON.parse(record.value!) as { job_id: number; price_quoted: number };
      expected.set(
        String(order.job_id),
        order.price_quoted >= prices.get(String(order.job_id))! ? 'ACCEPTED' : 'REJECTED',
      );
    }
    expect(expected.size).toBe(JOBS);

    const tailed = await cli(
      ['tail', 'job_status', '--from-beginning', '--limit', String(JOBS), '--format', 'jsonl'],
      240_000,
    );
    expect(tailed.code, tailed.stderr).toBe(0);
    const rows = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(JOBS);
    const seen = new Map(rows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]));
    expect(seen.size).toBe(JOBS);
    for (const [jobId, status] of expected) expect(seen.get(jobId), `job ${jobId}`).toBe(status);
    // --limit closed the push query on the server: no transient query over job_status is left running.
    const server = new KsqlClient({ url: stack.ksqldb!.url });
    try {
      const pushQueries = (await server.listQueries()).filter(
        (q) => q.queryType === 'PUSH' && /JOB_STATUS/i.test(q.queryString),
      );
      expect(pushQueries).toEqual([]);
    } finally {
      server.close();
    }

    const viaKafka = await cli([
      'tail',
      'job_status',
      '--via',
      'kafka',
      '--from-beginning',
      '--limit',
      String(JOBS),
      '--format',
      'jsonl',
    ]);
    expect(viaKafka.code, viaKafka.stderr).toBe(0);
    const topicRows = viaKafka.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(new Map(topicRows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(seen);

    const mongo = new MongoClient(stack.ferretdb.uri);
    try {
      await mongo.connect();
      const collection = mongo.db(database).collection('job_status');
      const deadline = Date.now() + 120_000;
      while ((await collection.countDocuments()) < JOBS && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 1000));
      const documents = await collection.find().toArray();
      expect(documents).toHaveLength(JOBS);
      for (const document of documents) {
        expect(Object.keys(document).sort()).toEqual([
          'CURRENT_STATUS',
          'CUSTOMER_ID',
          'PRICE',
          'SERVICE_OPTION',
          '_id',
        ]);
      }
      // One document per job, its id the job id (the record key): the status matches what was decided.
      const landed = new Map(
        documents.map((d) => [String((d._id as unknown as { JOB_ID: unknown }).JOB_ID), d.CURRENT_STATUS]),
      );
      expect(landed).toEqual(expected);
    } finally {
      await mongo.close();
    }
    const verify = json<SinkVerifyResult>(await cli(['sink', 'verify', '--json']));
    expect(verify).toMatchObject({ documents: JOBS, missing: 0 });

    // Every job a truck drove to has its truck_tracker row.
    const trucked = new Set<string>();
    for (const record of await readTopic(kafka, 'tradie_truck_location')) {
      trucked.add(String((JSON.parse(record.value!) as { JOB_ID: string }).JOB_ID));
    }
    expect(trucked.size).toBeGreaterThan(0);
    const ksql = new KsqlClient({ url: stack.ksqldb!.url });
    try {
      const deadline = Date.now() + 60_000;
      let tracked = new Set<string>();
      while (Date.now() < deadline) {
        tracked = new Set(
          (await ksql.executeQuery('SELECT * FROM TRUCK_TRACKER;')).rows.map((row) => String(row.get('JOB_ID'))),
        );
        if (tracked.size >= trucked.size) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(tracked).toEqual(trucked);
    } finally {
      ksql.close();
    }
  });

  it('lineage shows every template object, the queries and the connector, and a stream added by hand', async () => {
    const graph = json<LineageResult>(await cli(['lineage', '--json']));
    const ids = graph.nodes.map((n) => n.id);
    for (const id of [
      'stream:ORDERS_PLACED',
      'stream:JOBS_CREATED',
      'stream:JOB_STATUS',
      'table:JOBLOCATION',
      'stream:VEHICLES',
      'table:TRUCK_TRACKER',
      `connector:${prefix}-mongo-sink`,
      'producer:marketplace-produce',
    ]) {
      expect(ids).toContain(id);
    }
    expect(graph.edges).toContainEqual({ from: 'topic:job_status', to: `connector:${prefix}-mongo-sink` });
    expect(graph.nodes.filter((n) => n.kind === 'query').every((n) => n.status === 'RUNNING')).toBe(true);

    const ksql = new KsqlClient({ url: stackEndpoints().ksqldb!.url });
    try {
      await ksql.executeStatement(
        "CREATE STREAM IF NOT EXISTS pipeline_by_hand (customer_id VARCHAR) WITH (KAFKA_TOPIC='job_status', VALUE_FORMAT='JSON');",
      );
      const after = json<LineageResult>(await cli(['lineage', '--json']));
      expect(after.nodes.map((n) => n.id)).toContain('stream:PIPELINE_BY_HAND');
      const mermaid = await cli(['lineage', '--format', 'mermaid']);
      expect(mermaid.stdout).toMatch(/^flowchart LR/);
      expect(mermaid.stdout).toMatch(/PIPELINE_BY_HAND/);
    } finally {
      await ksql.executeStatement('DROP STREAM IF EXISTS PIPELINE_BY_HAND;');
      ksql.close();
    }
  });

  it('tail of an unknown name fails with exit 2 and lists the known ones', async () => {
    const run = await cli(['tail', 'job_statuz']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no stream or table named job_statuz; known: .*job_status/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('down leaves no connector, query, stream or topic of the demo', async () => {
    const down = json<DownResult>(await cli(['down', '--yes', '--json']));
    expect(down.remaining).toEqual([]);
    expect(down.deleted).toHaveLength(8);
    const stack = stackEndpoints();
    const connectors = (await (await fetch(`${stack.connect.url}/connectors`)).json()) as string[];
    expect(connectors).not.toContain(`${prefix}-mongo-sink`);
    const ksql = new KsqlClient({ url: stack.ksqldb!.url });
    try {
      const names = [...(await ksql.listStreams()), ...(await ksql.listTables())].map((s) => s.name);
      for (const name of ['ORDERS_PLACED', 'JOBS_CREATED', 'JOB_STATUS', 'JOBLOCATION', 'VEHICLES', 'TRUCK_TRACKER']) {
        expect(names).not.toContain(name);
      }
      expect(
        (await ksql.listQueries()).filter((q) => ['JOB_STATUS', 'TRUCK_TRACKER'].some((s) => q.sinks.includes(s))),
      ).toEqual([]);
    } finally {
      ksql.close();
    }
    const admin = createKafka({
      target: 'local',
      bootstrap: [stack.kafka.plaintext],
      clientId: 'pipeline-test',
    }).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      for (const topic of [
        'order_placed',
        'job_created',
        'joblocation',
        'tradie_truck_location',
        'job_status',
        'truck_tracker',
      ]) {
        expect(topics).not.toContain(topic);
      }
    } finally {
      await admin.disconnect();
    }
    const state = JSON.parse(await readFile(join(cwd, '.marketplace', 'state.json'), 'utf8')) as { resources: object };
    expect(state.resources).toEqual({});
  });
});
