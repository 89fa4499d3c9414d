import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES_DIR } from '../../src/ksql-client/templates.js';
import { startKsqlDevServer, type KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { runCli } from '../helpers/cli.js';
import { stackEndpoints } from '../helpers/stack.js';
import { freePort } from '../helpers/ports.js';
import type { KsqlApplyResult, KsqlListResult, KsqlRunResult } from '../../src/commands/ksql.js';

const { Kafka, logLevel } = kafkajs;
const run = randomUUID().slice(0, 8);
const STREAM = `CLI_${run}`.toUpperCase();

let server: KsqlDevServer;
let admin: kafkajs.Admin;
let workdir: string;

beforeAll(async () => {
  const bootstrap = stackEndpoints().kafka.plaintext;
  server = await startKsqlDevServer({
    listen: '127.0.0.1:0',
    bootstrap,
    serviceId: `kc_cli_${run}_`,
    log: () => undefined,
  });
  admin = new Kafka({ clientId: `ksql-cli-${run}`, brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  workdir = mkdtempSync(join(tmpdir(), 'ksql-cli-'));
});

afterAll(async () => {
  await server?.close();
  const topics = (await admin.listTopics()).filter((topic) => topic.includes(run));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(run));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  await admin?.disconnect();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** The CLI pointed at this file's dev server through the environment, from a directory without a config file. */
function ksql(args: string[], env: Record<string, string> = {}) {
  return runCli(['ksql', ...args], {
    cwd: workdir,
    env: { MARKETPLACE_TARGET: 'local', MARKETPLACE_KSQLDB_URL: server.url, NO_COLOR: '1', ...env },
    timeoutMs: 90_000,
  });
}

describe('marketplace ksql', () => {
  it('runs a statement and shows SHOW STREAMS as a table', async () => {
    const created = await ksql([
      `CREATE STREAM ${STREAM} (id VARCHAR KEY, n BIGINT, label VARCHAR) WITH (KAFKA_TOPIC='kc_cli_${run}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
    ]);
    expect(created.stderr).toContain('Stream created');
    expect(created.code).toBe(0);

    const shown = await ksql(['SHOW STREAMS;']);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(/Stream\s+Topic\s+Key format\s+Value format\s+Windowed/);
    expect(shown.stderr).toMatch(new RegExp(`${STREAM}\\s+kc_cli_${run}\\s+KAFKA\\s+JSON\\s+no`));
    expect(shown.stdout).toBe('');
  });

  it('runs a file with DEFINE, INSERT and a query; --json puts every result on stdout', async () => {
    const file = join(workdir, 'script.sql');
    writeFileSync(
      file,
      [
        `DEFINE who = 'cli';`,
        `INSERT INTO ${STREAM} (id, n, label) VALUES ('a', 9007199254740991, '\${who}');`,
        `INSERT INTO ${STREAM} (id, n, label) VALUES ('b', 2, 'other');`,
        `SET 'auto.offset.reset' = 'earliest';`,
        `SELECT id, n, label FROM ${STREAM} WHERE label = '\${who}' EMIT CHANGES LIMIT 1;`,
      ].join('\n'),
    );
    const result = await ksql(['-f', 'script.sql', '--json'], { MARKETPLACE_KSQLDB_URL: server.url });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as KsqlRunResult;
    expect(json.url).toBe(server.url);
    expect(json.steps.map((s) => [s.kind, s.line])).toEqual([
      ['define', 1],
      ['statement', 2],
      ['statement', 3],
      ['set', 4],
      ['query', 5],
    ]);
    const query = json.steps[4]!.query!;
    expect(query.columnNames).toEqual(['ID', 'N', 'LABEL']);
    expect(query.rows).toEqual([['a', 9007199254740991, 'cli']]);
  });

  it('prints push query rows on stdout as they arrive and stops at --max-rows', async () => {
    // auto.offset.reset defaults to latest: SET it the way the ksqlDB CLI does
    const fromStart = await ksql([
      `SET 'auto.offset.reset' = 'earliest'; SELECT label, n FROM ${STREAM} EMIT CHANGES;`,
      '--max-rows',
      '2',
    ]);
    expect(fromStart.code).toBe(0);
    const lines = fromStart.stdout.trim().split('\n');
    expect(lines[0]).toBe('LABEL\tN');
    expect(lines.slice(1).sort()).toEqual(['cli\t9007199254740991', 'other\t2']);
    expect(fromStart.stderr).toMatch(/2 row\(s\) from transient_\S+, stopped at --max-rows/);
  }, 60_000);

  it('a SQL error in a file is one line naming file:line:column and the statement, exit 2', async () => {
    mkdirSync(join(workdir, 'sql'), { recursive: true });
    writeFileSync(
      join(workdir, 'sql', 'bad.sql'),
      `SHOW STREAMS;\n\n-- next one is wrong\nSELECT * FROM nowhere_${run} EMIT CHANGES;\n`,
    );
    const result = await ksql(['-f', 'sql/bad.sql']);
    expect(result.code).toBe(2);
    const errorLines = result.stderr.split('\n').filter((line) => line.includes('Error'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(
      new RegExp(
        `Error: sql/bad\\.sql:4:\\d+: .*NOWHERE_${run.toUpperCase()} does not exist.*\\[in: SELECT \\* FROM nowhere_${run}`,
        'i',
      ),
    );
    expect(errorLines[0]).toMatch(/statement\(s\) before it ran/);
  });

  it('an unterminated string is reported at its own position without contacting the server', async () => {
    writeFileSync(join(workdir, 'quote.sql'), "SHOW STREAMS;\nSELECT 'open FROM x;\n");
    const result = await ksql(['-f', 'quote.sql'], { MARKETPLACE_KSQLDB_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error: quote.sql:2:8: unterminated string');
  });

  it('an unreachable endpoint on the local target is one line with how to start the stack, exit 1', async () => {
    const port = await freePort();
    const result = await ksql(['SHOW STREAMS;'], {
      MARKETPLACE_KSQLDB_URL: '',
      MARKETPLACE_LOCAL_KSQLDB_PORT: String(port),
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot reach ksqlDB at http://127.0.0.1:${port} (connection refused)`);
    expect(lines[0]).toContain('marketplace local start');
  });

  it('the cloud target without a provisioned ksqlDB says to run up, exit 2', async () => {
    const result = await ksql(['SHOW STREAMS;'], { MARKETPLACE_TARGET: 'cloud', MARKETPLACE_KSQLDB_URL: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no ksqlDB endpoint and API key for the cloud target.*marketplace up/);
  });

  it('needs a statement or --file', async () => {
    const result = await ksql([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no statement given');
  });
});

describe('marketplace ksql apply / list', () => {
  it('applies the templates, a second run is a no-op, and list shows them with query status', async () => {
    await admin.createTopics({
      topics: [`kc_order_placed_${run}`, `kc_job_created_${run}`].map((topic) => ({ topic, numPartitions: 2 })),
    });
    const dir = join(workdir, 'templates');
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
      const text = readFileSync(join(dir, file), 'utf8')
        .replace(/KAFKA_TOPIC = '([^']+)'/g, (_m, t: string) => `KAFKA_TOPIC = 'kc_${t}_${run}'`)
        .replace(
          /\b(orders_placed|jobs_created|job_status|joblocation|vehicles|truck_tracker)\b/gi,
          (name) => `${name}_c${run}`,
        );
      writeFileSync(join(dir, file), text);
    }
    const names = ['ORDERS_PLACED', 'JOBS_CREATED', 'JOB_STATUS', 'JOBLOCATION', 'VEHICLES', 'TRUCK_TRACKER'].map(
      (n) => `${n}_C${run.toUpperCase()}`,
    );

    const first = await ksql(['apply', '--dir', 'templates', '--json']);
    expect(first.code).toBe(0);
    const applied = JSON.parse(first.stdout) as KsqlApplyResult;
    expect(applied.created).toEqual(names);
    expect(applied.existing).toEqual([]);

    const second = await ksql(['apply', '--dir', 'templates']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('0 created, 6 already there');
    for (const name of names)
      expect(second.stderr).toMatch(new RegExp(`${name} already exists \\(.*templates/\\d\\d-[a-z-]+\\.sql:\\d+\\)`));

    const listed = await ksql(['list', '--json']);
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as KsqlListResult;
    expect(list.streams.map((s) => s.name)).toEqual(expect.arrayContaining([names[0], names[1], names[2], names[4]]));
    expect(list.tables.map((t) => t.name)).toEqual(expect.arrayContaining([names[3], names[5]]));
    const sinks = list.queries.flatMap((q) => q.sinks);
    expect(sinks).toEqual(expect.arrayContaining([names[2], names[5]]));

    const human = await ksql(['list']);
    expect(human.stderr).toMatch(/Query\s+Type\s+Status\s+Sinks/);
    expect(human.stderr).toMatch(new RegExp(`CSAS_\\S+\\s+PERSISTENT\\s+RUNNING\\s+${names[2]}`));
  }, 180_000);
});
