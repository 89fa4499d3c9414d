import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlinkJobs } from '../../src/flink-client/jobs.js';
import { flinkStack, type FlinkEndpoints } from '../helpers/flink.js';
import { killService } from '../helpers/stack-faults.js';
import {
  bootstrap,
  cleanup,
  eventually,
  kafkaClient,
  readTopic,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

type FlinkJobsModule = typeof import('../../src/local/flink-jobs.js');
type TemplatesModule = typeof import('../../src/engines/flink/templates.js');
type StackModule = typeof import('../../src/local/stack.js');
const built = async <T>(path: string): Promise<T> =>
  (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;

const idOf = (key: Buffer | null) => Number(key!.readBigInt64BE());

/**
 * The job_status job of templates/flink, kept by the local stack, survives the stack's Flink being killed (restored
 * from its last checkpoint) and being stopped (restored from the savepoint taken on the way down): every row
 * arrives, none twice. Runs the real templates over topics of its own.
 */
describe('Flink on the local stack: a kept job survives a crash and a restart', () => {
  const suffix = uniqueSuffix();
  const topics = { jobs: `job_created${suffix}`, orders: `order_placed${suffix}`, sink: `job_status${suffix}` };
  const pipeline = `restart${suffix.replace(/-/g, '_')}`;
  let flink: FlinkEndpoints;
  let client: KafkaTestClient;
  let jobs: FlinkJobs;
  let keptJobs: FlinkJobsModule;
  let stack: StackModule;

  beforeAll(async () => {
    flink = await flinkStack();
    jobs = new FlinkJobs({ url: flink.restUrl });
    keptJobs = await built<FlinkJobsModule>('local/flink-jobs.js');
    stack = await built<StackModule>('local/stack.js');
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
    });
  });

  afterAll(async () => {
    const settings = await stack?.runningSettings(flink.home);
    if (settings && keptJobs) {
      const registry = new keptJobs.KeptJobs(stack.stackPaths(flink.home));
      const job = await registry.get(pipeline);
      await registry.remove(pipeline);
      if (job) {
        // Ended before its topics are deleted, so nothing writes to them while they go.
        await jobs.cancel(job.jobId).catch(() => undefined);
        await jobs.waitEnded(job.jobId).catch(() => undefined);
      }
      await keptJobs.pruneFlinkState(settings).catch(() => undefined);
    }
    if (client) {
      await cleanup(client, suffix);
      await client.close();
    }
  });

  const base = Date.now();
  const send = async (from: number, to: number) => {
    const ids = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    for (let i = 0; i < ids.length; i += 5_000) {
      const chunk = ids.slice(i, i + 5_000);
      await client.producer.send({
        topic: topics.jobs,
        messages: chunk.map((id) => ({
          value: JSON.stringify({ job_id: id, price: 100 }),
          timestamp: String(base + id),
        })),
      });
      await client.producer.send({
        topic: topics.orders,
        messages: chunk.map((id) => ({
          value: JSON.stringify({ job_id: id, customer_id: `c${id}`, price_quoted: id % 2 === 0 ? 150 : 50 }),
          timestamp: String(base + id + 5),
        })),
      });
    }
  };
  const expectExactly = async (total: number) => {
    await eventually(
      async () => ((await readTopic(client, topics.sink)).length >= total ? true : undefined),
      180_000,
      `${total} rows in ${topics.sink}`,
    );
    const records = await readTopic(client, topics.sink);
    const ids = records.map((r) => idOf(r.key));
    expect(ids.length - new Set(ids).size).toBe(0);
    expect(new Set(ids).size).toBe(total);
    expect(
      records.every((r) => {
        const value = JSON.parse(r.value!.toString('utf8')) as { CURRENT_STATUS: string; PRICE: number };
        return value.CURRENT_STATUS === (idOf(r.key) % 2 === 0 ? 'ACCEPTED' : 'REJECTED') && value.PRICE === 100;
      }),
    ).toBe(true);
  };

  // Flink's three JVMs stop and start twice here: a minute each on a busy 2-core machine.
  it('resumes from its last checkpoint after a kill, then from a savepoint after a stop: no row lost or repeated', {
    timeout: 420_000,
  }, async () => {
    const { loadFlinkTemplates } = await built<TemplatesModule>('engines/flink/templates.js');
    const templates = await loadFlinkTemplates({ bootstrapServers: bootstrap() });
    const jobStatus = templates.pipelines.find((p) => p.name === 'job_status')!;
    // The real statements, on this test's topics and under its own transactional ids.
    const ownTopics = (sql: string) =>
      sql
        .replace(/'topic' = '([^']+)'/g, (_m, topic: string) => `'topic' = '${topic}${suffix}'`)
        .replace(/'sink\.transactional-id-prefix' = '([^']+)'/, `'sink.transactional-id-prefix' = '$1${suffix}'`)
        .replace(/'properties\.group\.id' = '([^']+)'/g, `'properties.group.id' = '$1${suffix}'`);
    const settings = (await stack.runningSettings(flink.home))!;
    await send(1, 5_000);
    const { jobId: first } = await keptJobs.runKeptJob(settings, {
      pipeline,
      name: `marketplace:${pipeline}:${jobStatus.fingerprint}`,
      tables: jobStatus.tables.map(ownTopics),
      insert: jobStatus.insert,
      config: jobStatus.config,
    });

    // Input keeps arriving the whole time, also while Flink is down: the job is always busy writing output.
    let sent = 5_000;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        await send(sent + 1, sent + 200);
        sent += 200;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      // Kill once a checkpoint has completed and its output is committed, while later output is being written.
      await eventually(
        async () => ((await jobs.checkpoints(first)).completed > 0 ? true : undefined),
        120_000,
        'a completed checkpoint',
      );
      await eventually(
        async () => ((await readTopic(client, topics.sink)).length > 0 ? true : undefined),
        60_000,
        'committed output',
      );
      for (const service of ['flink-gateway', 'flink-taskmanager', 'flink-jobmanager'] as const) {
        await killService(flink.home, service);
      }
      const beforeRestart = (await readTopic(client, topics.sink)).length;
      expect(beforeRestart).toBeLessThan(sent);

      // Start resubmits the kept job from its last checkpoint.
      const started = await stack.startStack({ settings, groups: ['flink'] });
      expect(started.services.find((s) => s.name === 'flink-gateway')?.notice).toMatch(
        new RegExp(`resumed Flink jobs .*${pipeline} \\(from chk-\\d+\\)`),
      );
      const second = (await new keptJobs.KeptJobs(stack.stackPaths(flink.home)).get(pipeline))!;
      expect(second.jobId).not.toBe(first);
      expect((await jobs.get(second.jobId))?.state).toBe('RUNNING');
      await eventually(
        async () => ((await readTopic(client, topics.sink)).length > beforeRestart ? true : undefined),
        120_000,
        'output of the resumed job',
      );

      // A graceful stop takes a savepoint; the next start resumes from it.
      const stopped = await stack.stopStack({
        home: flink.home,
        only: ['flink-gateway', 'flink-taskmanager', 'flink-jobmanager'],
      });
      expect(stopped.services.find((s) => s.name === 'flink-taskmanager')?.notice).toMatch(
        new RegExp(`stopped with a savepoint: ${pipeline} saved`),
      );
      const restarted = await stack.startStack({ settings, groups: ['flink'] });
      expect(restarted.services.find((s) => s.name === 'flink-gateway')?.notice).toMatch(
        new RegExp(`${pipeline} \\(from savepoint-`),
      );
    } finally {
      sending = false;
      await sender;
    }
    await expectExactly(sent);
  });
});
