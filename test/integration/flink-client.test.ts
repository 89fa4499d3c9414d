import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlinkConnectionError,
  FlinkGateway,
  FlinkJobs,
  FlinkStatementError,
  type FlinkSession,
} from '../../src/flink-client/index.js';
import { flinkStack, testKafka, uniqueSuffix, type FlinkEndpoints, type TestKafka } from '../helpers/flink.js';
import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

/** src/flink-client against the real SQL Gateway and JobManager of the local stack, over the real local Kafka. */
const suffix = uniqueSuffix();
const input = `flink_client_in${suffix}`;
const output = `flink_client_out${suffix}`;
let flink: FlinkEndpoints;
let gateway: FlinkGateway;
let jobs: FlinkJobs;
let kafka: TestKafka;
const sessions: FlinkSession[] = [];
const startedJobs: string[] = [];

const tableOver = (name: string, topic: string) =>
  `CREATE TABLE ${name} (id BIGINT, label STRING) WITH (
     'connector' = 'kafka', 'topic' = '${topic}',
     'properties.bootstrap.servers' = '${stackEndpoints().kafka.plaintext}',
     'properties.group.id' = 'flink-client-test${suffix}',
     'scan.startup.mode' = 'earliest-offset', 'value.format' = 'json')`;

async function session(properties: Record<string, string> = {}): Promise<FlinkSession> {
  const opened = await gateway.openSession({ name: `flink-client-test${suffix}`, properties });
  sessions.push(opened);
  return opened;
}

beforeAll(async () => {
  flink = await flinkStack();
  gateway = new FlinkGateway({ url: flink.gatewayUrl });
  jobs = new FlinkJobs({ url: flink.restUrl });
  kafka = await testKafka('flink-client-test');
  await kafka.createTopics([input, output]);
});

afterAll(async () => {
  for (const id of startedJobs) await jobs?.cancel(id).catch(() => undefined);
  for (const opened of sessions) await opened.close().catch(() => undefined);
  await kafka?.close(suffix);
});

describe('flink-client: SQL Gateway and JobManager', () => {
  it('reads the gateway version, and keeps each session its own catalog and configuration', async () => {
    expect(await gateway.info()).toMatchObject({
      productName: 'Apache Flink',
      version: expect.stringMatching(/^2\.2\./),
    });
    const first = await session({ 'pipeline.name': `client-test${suffix}` });
    const second = await session();
    await first.execute(tableOver('only_here', input));
    expect((await first.execute('SHOW TABLES')).rows.map((row) => row.fields[0])).toEqual(['only_here']);
    expect((await second.execute('SHOW TABLES;')).rows).toEqual([]);
    expect((await first.properties())['pipeline.name']).toBe(`client-test${suffix}`);
  });

  it('turns a refused statement into one line with the root cause and where it points', async () => {
    const opened = await session();
    const unknown = await opened.execute('SELECT * FROM no_such_table').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(FlinkStatementError);
    expect((unknown as FlinkStatementError).message).toBe("Flink: Object 'no_such_table' not found");
    expect((unknown as FlinkStatementError).rootCause.position).toEqual({ line: 1, column: 15 });
    expect((unknown as FlinkStatementError).exitCode).toBe(2);

    const parse = await opened.execute('SELECT 1\n  FROM +').catch((error: unknown) => error);
    expect(parse).toBeInstanceOf(FlinkStatementError);
    expect((parse as Error).message).toMatch(/^Flink: Encountered .* at line 2, column 8\.$/);
    expect((parse as Error).message).not.toContain('\n');
    expect((parse as FlinkStatementError).rootCause.position).toEqual({ line: 2, column: 8 });
  });

  it('streams the rows of a SELECT as they arrive, and closing it cancels its job', async () => {
    const opened = await session();
    await opened.execute(tableOver('events', input));
    await kafka.producer.send({
      topic: input,
      messages: [1, 2, 3].map((id) => ({ value: JSON.stringify({ id, label: `row ${id}` }) })),
    });
    const query = await opened.submit('SELECT id, label FROM events');
    const stop = new AbortController();
    const seen: unknown[][] = [];
    for await (const row of query.rows(stop.signal)) {
      expect(row.kind).toBe('INSERT');
      seen.push(row.fields);
      // The fourth record is produced only once the first rows are in: rows arrive while the query runs.
      if (seen.length === 3) {
        await kafka.producer.send({ topic: input, messages: [{ value: JSON.stringify({ id: 4, label: 'later' }) }] });
      }
      if (seen.length === 4) break;
    }
    expect(seen).toEqual([
      [1, 'row 1'],
      [2, 'row 2'],
      [3, 'row 3'],
      [4, 'later'],
    ]);
    expect(query.columns.map((column) => [column.name, column.logicalType.type])).toEqual([
      ['id', 'BIGINT'],
      ['label', 'VARCHAR'],
    ]);
    const jobId = query.jobId!;
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    expect((await jobs.get(jobId))?.state).toBe('RUNNING');
    await query.close();
    expect(await jobs.waitEnded(jobId)).toBe('CANCELED');
  });

  it('submits an INSERT as a named job, then stops it with a savepoint it can be restored from', async () => {
    const opened = await session();
    await opened.execute(tableOver('events', input));
    await opened.execute(tableOver('copies', output));
    const name = `client-test-insert${suffix}`;
    const submitted = await opened.execute('INSERT INTO copies SELECT id, UPPER(label) FROM events', {
      config: { 'pipeline.name': name },
    });
    expect(submitted.jobId).toMatch(/^[0-9a-f]{32}$/);
    startedJobs.push(submitted.jobId!);
    expect((await jobs.list()).find((job) => job.id === submitted.jobId)).toMatchObject({ name });

    const consumer = kafka.kafka.consumer({ groupId: `flink-client-check${suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true });
    const labels: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        labels.push((JSON.parse(message.value!.toString()) as { label: string }).label);
      },
    });
    try {
      await eventually(async () => (labels.length >= 4 ? true : undefined), 60_000, 'the copied rows');
      expect(labels.slice(0, 4)).toEqual(['ROW 1', 'ROW 2', 'ROW 3', 'LATER']);
    } finally {
      await consumer.disconnect();
    }

    await eventually(
      async () => ((await jobs.checkpoints(submitted.jobId!)).completed > 0 ? true : undefined),
      60_000,
      'a completed checkpoint',
    );
    const savepoint = await jobs.stopWithSavepoint(submitted.jobId!);
    expect(savepoint).toMatch(/^file:.*savepoint-/);
    expect(await jobs.waitEnded(submitted.jobId!)).toBe('FINISHED');
    expect(existsSync(join(fileURLToPath(savepoint), '_metadata'))).toBe(true);
    await rm(fileURLToPath(savepoint), { recursive: true, force: true });
  });

  it('names the gateway and what to do when nothing answers', async () => {
    const nobody = new FlinkGateway({ url: `http://127.0.0.1:${await freePort()}` });
    const error = await nobody.info().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlinkConnectionError);
    expect((error as Error).message).toMatch(/^the Flink SQL Gateway at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
    expect((error as FlinkConnectionError).hint).toContain('marketplace local start --with flink');
  });
});
