import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { scanTopic } from '../../../src/kafka/consumer.js';
import { runCli, startCli, type CliRun } from '../../helpers/cli.js';
import { eventually } from '../../helpers/poll.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { killService, serviceRunning, startStoppedServices } from '../../helpers/stack-faults.js';
import { localTargetEnv, stackEndpoints } from '../../helpers/stack.js';
import type { SinkStatusResult, SinkVerifyResult } from '../../../src/commands/sink.js';
import type { TailRow } from '../../../src/tail/source.js';

/**
 * Hardening item 2: the Kafka Connect worker is SIGKILLed while the MongoDB sink is writing job_status, then
 * restarted. Afterwards MongoDB (FerretDB) must hold one document per job_status record — the same set of job ids
 * as the topic's keys, none missing and none twice — although the killed worker never committed its last offsets.
 */
// FerretDB (SQLite) takes the sink's upserts at a few dozen per second on a busy 2-core machine: a few hundred jobs
// keep the sink busy long enough to be killed mid-way without making the file slow.
const JOBS = 200;
const RATE = 10;
const prefix = 'hardening-connect';
const database = `hardening_connect_${randomBytes(3).toString('hex')}`;
let cwd: string;
let env: NodeJS.ProcessEnv;
let home: string;
let mongo: MongoClient;

const cli = (args: string[], timeoutMs = 120_000): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs });

beforeAll(async () => {
  const stack = stackEndpoints();
  home = stack.home;
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-hardening-connect-'));
  env = localTargetEnv(stack, { prefix, database });
  await cli(['down', '--yes', '--discover']);
  const up = await cli(['up'], 240_000);
  expect(up.code, up.stderr).toBe(0);
  mongo = new MongoClient(stack.ferretdb.uri, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
});

afterAll(async () => {
  if (!(await serviceRunning(home, 'connect'))) await startStoppedServices(home);
  await cli(['down', '--yes', '--discover']);
  await mongo
    ?.db(database)
    .dropDatabase()
    .catch(() => undefined);
  await mongo?.close();
});

/** The sum of job_status's end offsets: grows with every transaction ksqlDB commits to it. */
async function topicEnd(topic: string): Promise<number> {
  const admin = createKafka({
    target: 'local',
    bootstrap: [stackEndpoints().kafka.plaintext],
    clientId: 'hardening-connect',
  }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Records in the topic, read back (ksqlDB's transactional output leaves commit markers, so offsets overcount). */
async function topicRecordCount(topic: string): Promise<number> {
  const kafka = createKafka({
    target: 'local',
    bootstrap: [stackEndpoints().kafka.plaintext],
    clientId: 'hardening-connect',
  });
  let records = 0;
  await scanTopic(kafka, topic, () => records++);
  return records;
}

describe('hardening 2: Connect worker SIGKILLed while the MongoDB sink writes job_status', () => {
  it('after the restart MongoDB holds every job_status record exactly once (same job ids as the topic)', async () => {
    const collection = mongo.db(database).collection<{ _id: { JOB_ID: number } }>('job_status');
    const producing = startCli(
      ['produce', '--count', String(JOBS), '--rate', String(RATE), '--trucks', '0', '--order-delay', '200ms', '--json'],
      { cwd, env, timeoutMs: 240_000 },
    );
    try {
      // Kill once the sink is visibly writing, while produce still has most of its jobs to go.
      const documentsAtKill = await eventually(
        async () => {
          const n = await collection.countDocuments();
          return n >= 20 ? n : undefined;
        },
        90_000,
        'the sink to write its first documents',
        500,
      );
      const killedAt = Date.now();
      await killService(home, 'connect', 'SIGKILL');
      // Connect stays down while job_status grows, so the restarted sink has records it never saw to catch up on.
      const endAtKill = await topicEnd('job_status');
      await eventually(
        async () => ((await topicEnd('job_status')) >= endAtKill + 20 ? true : undefined),
        60_000,
        'job_status to grow while Connect is down',
        500,
      );
      const documentsWhileDown = await collection.countDocuments();
      const restartSeconds = await startStoppedServices(home);
      const outageSeconds = (Date.now() - killedAt) / 1000;

      const produced = await producing.done;
      expect(produced.code, produced.stderr).toBe(0);
      const status = await eventually(
        async () => {
          const run = await cli(['sink', 'status', '--json']);
          return run.code === 0 ? (JSON.parse(run.stdout) as SinkStatusResult) : undefined;
        },
        90_000,
        'the sink connector and its task to be RUNNING again',
        500,
      );
      const verify = await cli(['sink', 'verify', '--wait', '150s', '--json'], 180_000);
      const verified = JSON.parse(verify.stdout) as SinkVerifyResult;

      // The topic's keys, decoded by the CLI itself (the key is ksqlDB's KAFKA-format BIGINT JOB_ID).
      const topicRecords = await topicRecordCount('job_status');
      const tailed = await cli(
        [
          'tail',
          'job_status',
          '--via',
          'kafka',
          '--from-beginning',
          '--limit',
          String(topicRecords),
          '--format',
          'jsonl',
        ],
        120_000,
      );
      expect(tailed.code, tailed.stderr).toBe(0);
      const topicIds = tailed.stdout
        .trim()
        .split('\n')
        .map((line) => String((JSON.parse(line) as TailRow).JOB_ID));
      const topicIdSet = new Set(topicIds);

      const documents = await collection.find({}, { projection: { _id: 1 } }).toArray();
      const documentIds = documents.map((d) => String(d._id.JOB_ID));
      const documentIdSet = new Set(documentIds);
      const missing = [...topicIdSet].filter((id) => !documentIdSet.has(id));
      const unexpected = [...documentIdSet].filter((id) => !topicIdSet.has(id));

      await checkAndRecord(
        {
          item: 2,
          scenario: `Connect worker SIGKILLed while the MongoDB sink wrote job_status (${JOBS} jobs produced at ${RATE}/s), restarted with \`local start\` 3 s later`,
          expectation:
            'sink RUNNING again; MongoDB holds one document per job_status record: the same job ids as the topic keys, none missing, none twice',
          observed:
            `killed at ${documentsAtKill} documents (${documentsWhileDown} while down), outage ${outageSeconds.toFixed(1)} s (restart ${restartSeconds.toFixed(1)} s); ` +
            `sink ${status.state}/${status.tasks.map((t) => t.state).join(',')}; job_status topic ${topicRecords} records, ${topicIdSet.size} job ids; ` +
            `MongoDB ${documents.length} documents, ${documentIdSet.size} distinct ids, ${missing.length} missing, ${unexpected.length} not in the topic; ` +
            `sink verify: exit ${verify.code}, missing ${verified.missing}`,
        },
        () => {
          expect(status.state).toBe('RUNNING');
          expect(status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
          expect(topicIdSet.size, 'one job_status record per job produced').toBe(JOBS);
          expect(topicIds).toHaveLength(topicIdSet.size);
          expect(documents.length - documentIdSet.size, 'documents repeating a job id').toBe(0);
          expect(missing, 'job ids of the topic missing from MongoDB').toEqual([]);
          expect(unexpected, 'documents whose job id is not in the topic').toEqual([]);
          expect(documents).toHaveLength(JOBS);
          expect(verify.code, verify.stderr).toBe(0);
          expect(verified).toMatchObject({ documents: JOBS, topicRecords: JOBS, missing: 0 });
        },
      );
    } finally {
      producing.kill('SIGKILL');
      if (!(await serviceRunning(home, 'connect'))) await startStoppedServices(home);
    }
  }, 300_000);
});
