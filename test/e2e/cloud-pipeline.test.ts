import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownResult } from '../../src/commands/down.js';
import type { SinkStatusResult, SinkVerifyResult } from '../../src/commands/sink.js';
import type { UpResult } from '../../src/commands/up.js';
import type { ProduceResult } from '../../src/producers/produce-run.js';
import type { CliRun } from '../helpers/cli.js';
import { CloudPipeline, type TailRow } from '../helpers/cloud-pipeline.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * The demo pipeline on the cloud target through the real CLI: up → produce → tail (push query on the provisioned
 * ksqlDB cluster) → sink verify (the Atlas sink's documents) → down, against the Confluent Cloud emulator backed by
 * the local stack. Producing and `tail --via kafka` go over the cluster's SASL_SSL listener, trusted through
 * kafkaCaFile (the emulated cluster's certificate is signed by the local stack's CA).
 */
const JOBS = 120;
const TIME_SCALE = 0.001;
const prefix = `e2e-cpipe-${Date.now().toString(36)}`;
let root: string;
let pipeline: CloudPipeline;

const json = <T>(run: CliRun): T => {
  expect(run.code, `exit ${run.code}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
};
const jsonl = (run: CliRun): TailRow[] => {
  expect(run.code, `exit ${run.code}\n${run.stderr}`).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TailRow);
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'e2e-cloud-pipeline-'));
  pipeline = await CloudPipeline.start(stackEndpoints(), { dir: root, prefix, timeScale: TIME_SCALE });
});

afterAll(async () => {
  await pipeline?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('cloud target pipeline against the Confluent Cloud emulator', () => {
  let expected: Map<string, string>;
  let rows: TailRow[];

  it('up provisions everything, the Atlas sink included', async () => {
    const up = json<UpResult>(await pipeline.up());
    expect(up.nothingToDo).toBe(false);
    expect(up.created).toEqual(
      expect.arrayContaining(['ksql-statements', 'mongo-sink-connector', 'kafka-api-key', 'ksqldb-api-key']),
    );
    const inventory = pipeline.harness.inventory();
    expect(inventory.ksqlClusters).toHaveLength(1);
    expect(inventory.connectors.map((c) => c.name)).toEqual([`${prefix}-mongo-sink`]);
  });

  it(`produce ${JOBS} jobs over SASL_SSL with the cluster API key`, async () => {
    const produced = json<ProduceResult>(await pipeline.produce(JOBS, 11));
    expect(produced).toMatchObject({ jobs: JOBS, errors: 0 });
    expected = await pipeline.expectedStatuses();
    expect(expected.size).toBe(JOBS);
    const statuses = new Set(expected.values());
    expect(statuses).toEqual(new Set(['ACCEPTED', 'REJECTED']));
  });

  it('the cluster certificate is trusted only through kafkaCaFile; a missing file is a one-line config error', async () => {
    const { MARKETPLACE_KAFKA_CA_FILE: _ca, ...withoutCa } = pipeline.env;
    const untrusted = await pipeline.cli(
      ['produce', '--count', '1', '--trucks', '0', '--connect-timeout', '5s'],
      60_000,
      withoutCa,
    );
    expect(untrusted.code, untrusted.stderr).toBe(1);
    expect(untrusted.stderr.trim().split('\n')).toHaveLength(1);
    expect(untrusted.stderr).toMatch(
      /presented a certificate this machine does not trust .* set kafkaCaFile \(MARKETPLACE_KAFKA_CA_FILE\)/,
    );

    const missing = join(root, 'no-such-ca.pem');
    const absent = await pipeline.cli(['produce', '--count', '1'], 60_000, {
      ...pipeline.env,
      MARKETPLACE_KAFKA_CA_FILE: missing,
    });
    expect(absent.code).toBe(2);
    expect(absent.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(`kafkaCaFile ${missing} (from MARKETPLACE_KAFKA_CA_FILE) does not exist`),
    ]);
    expect(absent.stdout).toBe('');
  });

  it('tail job_status (push query with the ksqlDB API key) shows one row per job with its status', async () => {
    rows = jsonl(await pipeline.tail(JOBS));
    expect(rows).toHaveLength(JOBS);
    const seen = new Map(rows.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]));
    expect(seen).toEqual(expected);

    const viaKafka = jsonl(await pipeline.tail(JOBS, ['--via', 'kafka']));
    expect(new Map(viaKafka.map((row) => [String(row.JOB_ID), row.CURRENT_STATUS]))).toEqual(expected);
    // The persistent queries are running (what `down` must stop); the push query closed with --limit.
    const groups = (await pipeline.leftovers()).ksqlQueryGroups;
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.filter((group) => group.includes('transient_'))).toEqual([]);
  });

  it('sink verify counts every job_status record in MongoDB', async () => {
    const verify = json<SinkVerifyResult>(await pipeline.sinkVerify());
    expect(verify).toMatchObject({ documents: JOBS, topicRecords: JOBS, missing: 0, database: pipeline.database });
    // The Atlas sink keys documents by topic-partition-offset (the job id is the record key), so compare contents.
    const documents = await pipeline.sunkDocuments();
    expect(Object.keys(documents[0]!).sort()).toEqual(['CURRENT_STATUS', 'CUSTOMER_ID', 'PRICE', 'SERVICE_OPTION']);
    const content = (row: TailRow) =>
      `${String(row.CUSTOMER_ID)}|${String(row.PRICE)}|${String(row.SERVICE_OPTION)}|${String(row.CURRENT_STATUS)}`;
    expect(documents.map(content).sort()).toEqual(rows.map(content).sort());
  });

  it('a job_status record the sink cannot read goes to its dead letter queue; sink status and verify count it', async () => {
    await pipeline.produceRaw('job_status', 'not-a-job', 'this is not JSON {');
    const status = await eventually(
      async () => {
        const run = await pipeline.cli(['sink', 'status', '--json']);
        const result = JSON.parse(run.stdout) as SinkStatusResult;
        return result.deadLetterQueue?.records === 1 ? { run, result } : undefined;
      },
      60_000,
      'the bad record in the dead letter queue',
      1000,
    );
    expect(status.run.code, status.run.stderr).toBe(0);
    expect(status.result).toMatchObject({ state: 'RUNNING', tasks: [{ state: 'RUNNING' }] });
    expect(status.result.deadLetterQueue?.topic).toMatch(/^dlq-lcc-/);

    const verify = await pipeline.sinkVerify();
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout) as SinkVerifyResult).toMatchObject({
      documents: JOBS,
      topicRecords: JOBS + 1,
      deadLetters: 1,
      deadLetterTopic: status.result.deadLetterQueue?.topic,
      missing: 0,
    });
    const human = await pipeline.cli(['sink', 'verify']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(`1 record went to the dead letter queue ${status.result.deadLetterQueue?.topic}`);
  });

  it('down leaves nothing: no cloud resource, demo topic, connector or ksqlDB query', async () => {
    const down = json<DownResult>(await pipeline.down());
    expect(down.remaining).toEqual([]);
    const deadline = Date.now() + 30_000;
    let left = await pipeline.leftovers();
    // Dropping a persistent query deletes its consumer group a moment after the DROP is acknowledged.
    while (left.ksqlQueryGroups.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      left = await pipeline.leftovers();
    }
    expect(left).toEqual({
      inventory: {
        environments: [],
        clusters: [],
        serviceAccounts: [],
        apiKeys: [],
        roleBindings: [],
        ksqlClusters: [],
        connectors: [],
        subjects: [],
        computePools: [],
        statements: [],
      },
      demoTopics: [],
      connectors: [],
      ksqlQueryGroups: [],
      emulatorErrors: [],
    });
  });
});
