import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrap,
  cleanup,
  eventually,
  kafkaClient,
  ksql,
  ksqlOk,
  readTopic,
  queryCaughtUp,
  templateStatements,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';
import { freePort } from '../helpers/ports.js';

const MAIN = fileURLToPath(new URL('../../dist/ksqldb-dev-server/main.js', import.meta.url));

interface RunningServer {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** The dev server as its own process (as `marketplace local start` runs it), so the test can SIGKILL it. */
async function startProcess(serviceId: string): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [MAIN, '--listen', `127.0.0.1:${port}`, '--bootstrap', bootstrap(), '--service-id', serviceId],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`dev server exited with ${child.exitCode}`);
      return fetch(`${url}/healthcheck`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      );
    },
    60_000,
    'the dev server to listen',
  );
  return { url, child, exited };
}

const idOf = (key: Buffer | null) => Number(key!.readBigInt64BE());

describe('ksqlDB dev server: crash (SIGKILL) mid-processing', () => {
  const suffix = uniqueSuffix();
  const serviceId = `crash${suffix}_`;
  const jobs = `job_created${suffix}`;
  const orders = `order_placed${suffix}`;
  const sink = `job_status${suffix}`;
  let client: KafkaTestClient;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    client = await kafkaClient();
    await client.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: orders, numPartitions: 3 },
        { topic: jobs, numPartitions: 3 },
      ],
    });
  });

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
    if (client) {
      await cleanup(client, suffix);
      await client.close();
    }
  });

  it('restarts from its last transaction: no output row duplicated, none lost', async () => {
    const base = Date.now();
    const send = async (from: number, to: number) => {
      const ids = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      await client.producer.send({
        topic: jobs,
        messages: ids.map((id) => ({
          value: JSON.stringify({ job_id: id, price: 100 }),
          timestamp: String(base + id),
        })),
      });
      await client.producer.send({
        topic: orders,
        messages: ids.map((id) => ({
          value: JSON.stringify({ job_id: id, customer_id: `c${id}`, price_quoted: id % 2 === 0 ? 150 : 50 }),
          timestamp: String(base + id + 5),
        })),
      });
    };
    // A backlog the first instance is still working through (writing output) when it is killed: several times what
    // one transaction takes, however fast the machine.
    const backlog = 60_000;
    for (let from = 1; from <= backlog; from += 5000) await send(from, from + 4999);

    const first = await startProcess(serviceId);
    servers.push(first);
    await ksqlOk(first.url, templateStatements(suffix, ['01', '02', '03']), { 'auto.offset.reset': 'earliest' });
    // Kill as soon as the first output is committed, while later output is being written.
    await eventually(
      async () =>
        (await client.admin.fetchTopicOffsets(sink).catch(() => [])).some((p) => Number(p.high) > 0) || undefined,
      90_000,
      'the first committed output',
      20,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = new Set((await readTopic(client, sink)).map((r) => idOf(r.key)));
    expect(beforeRestart.size).toBeLessThan(backlog);

    // Input keeps arriving while the server is down and after it is back.
    await send(backlog + 1, backlog + 300);
    const second = await startProcess(serviceId);
    servers.push(second);
    const listed = await ksql(second.url, 'SHOW QUERIES;');
    expect(listed.body[0].queries.map((q: { id: string }) => q.id)).toEqual([
      expect.stringMatching(/^CSAS_JOB_STATUS_\d+$/),
    ]);
    await send(backlog + 301, backlog + 600);
    const total = backlog + 600;

    await eventually(
      async () => ((await readTopic(client, sink)).length >= total ? true : undefined),
      120_000,
      `${total} rows in ${sink}`,
    );
    // A duplicate would be written before the query reaches the end of its input.
    await queryCaughtUp(second.url, client, { serviceId, sink: 'JOB_STATUS', inputs: [jobs, orders] });
    const records = await readTopic(client, sink);
    const ids = records.map((r) => idOf(r.key));
    const distinct = new Set(ids);
    expect(ids.length - distinct.size).toBe(0);
    expect(distinct.size).toBe(total);
    expect(
      records.every(
        (r) =>
          JSON.parse(r.value!.toString('utf8')).CURRENT_STATUS === (idOf(r.key) % 2 === 0 ? 'ACCEPTED' : 'REJECTED'),
      ),
    ).toBe(true);
  });
});
