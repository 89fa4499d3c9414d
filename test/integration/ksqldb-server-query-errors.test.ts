import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { startKsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { runCli } from '../helpers/cli.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';
import {
  bootstrap,
  closeServerAndClient,
  eventually,
  kafkaClient,
  ksqlOk,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

// A persistent query that cannot write its output stops, and says so everywhere a user looks: SHOW QUERIES and
// DESCRIBE (state ERROR), EXPLAIN (queryErrors), the server log, and `marketplace status`.
describe('ksqlDB dev server: a query that cannot write its output', () => {
  const suffix = uniqueSuffix();
  const serviceId = `queryerrors${suffix}_`;
  const sinkTopic = `big_copy${suffix}`;
  const log: string[] = [];
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;
  let cwd: string;

  beforeAll(async () => {
    client = await kafkaClient();
    cwd = await mkdtemp(join(tmpdir(), 'marketplace-query-errors-'));
    server = await startKsqlDevServer({
      listen: '127.0.0.1:0',
      bootstrap: bootstrap(),
      serviceId,
      log: (line) => log.push(line),
    });
  });

  afterAll(async () => {
    await closeServerAndClient(server, client, suffix);
    await rm(cwd, { recursive: true, force: true });
  });

  it('stops with state ERROR and its reason in SHOW QUERIES, DESCRIBE, EXPLAIN, the log and `marketplace status`', async () => {
    await ksqlOk(
      server!.url,
      `CREATE STREAM notes (id INT KEY, body STRING) WITH (KAFKA_TOPIC='notes${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');
       CREATE STREAM big_copy WITH (KAFKA_TOPIC='${sinkTopic}') AS SELECT * FROM notes;`,
    );
    const queries = async () =>
      (await ksqlOk(server!.url, 'SHOW QUERIES;'))[0].queries as { id: string; state: string; sinks: string[] }[];
    const [query] = await queries();
    expect(query!.state).toBe('RUNNING');

    // The sink topic takes no record larger than 100 bytes: the query's next output cannot be written.
    await client.admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: sinkTopic, configEntries: [{ name: 'max.message.bytes', value: '100' }] }],
    });
    await ksqlOk(server!.url, `INSERT INTO notes (id, body) VALUES (1, '${'x'.repeat(2000)}');`);

    await eventually(async () => ((await queries())[0]!.state === 'ERROR' ? true : undefined), 60_000, 'state ERROR');
    const [listed] = await queries();
    expect(listed).toMatchObject({ id: query!.id, state: 'ERROR', statusCount: { ERROR: 1 } });

    const described = (await ksqlOk(server!.url, 'DESCRIBE big_copy;'))[0].sourceDescription;
    expect(described.writeQueries).toMatchObject([{ id: query!.id, state: 'ERROR' }]);
    const source = (await ksqlOk(server!.url, 'DESCRIBE notes;'))[0].sourceDescription;
    expect(source.readQueries).toMatchObject([{ id: query!.id, state: 'ERROR' }]);

    const explained = (await ksqlOk(server!.url, `EXPLAIN ${query!.id};`))[0];
    expect(explained['@type']).toBe('queryDescription');
    expect(explained.queryDescription.state).toBe('ERROR');
    const reason = explained.queryDescription.queryErrors.at(-1).errorMessage as string;
    expect(reason).toContain(`Query ${query!.id} stopped: writing its results to topic ${sinkTopic} failed`);

    expect(log.some((line) => line.includes('WARN') && line.includes(reason))).toBe(true);

    const stack = stackEndpoints();
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => k === 'MARKETPLACE_HOME' || k.startsWith('MARKETPLACE_LOCAL_')),
      ),
      ...localTargetEnv(stack, { prefix: `qe${suffix.slice(1, 7)}`, database: `qe${suffix.slice(1)}` }),
      MARKETPLACE_KSQLDB_URL: server!.url,
    };
    const status = await runCli(['status', '--json'], { cwd, env, timeoutMs: 120_000 });
    const result = JSON.parse(status.stdout) as { queries: { id: string; state: string; reason?: string }[] };
    expect(result.queries).toContainEqual({ id: query!.id, sinks: ['BIG_COPY'], state: 'ERROR', reason });
    const human = await runCli(['status'], { cwd, env, timeoutMs: 120_000 });
    expect(human.stderr).toContain(reason);
  });
});
