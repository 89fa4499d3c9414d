import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretRegistry } from '../../src/core/redact.js';
import { KsqlClient } from '../../src/ksql-client/client.js';
import type { CurrentStatusEntity } from '../../src/ksql-client/entities.js';
import { KsqlConnectionError, KsqlError, KsqlRequestError } from '../../src/ksql-client/errors.js';
import { startKsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import { stackEndpoints } from '../helpers/stack.js';
import { freePort } from '../helpers/ports.js';

const { Kafka, logLevel } = kafkajs;
const run = randomUUID().slice(0, 8);
const DEV_SERVER = fileURLToPath(new URL('../../dist/ksqldb-dev-server/index.js', import.meta.url));

let admin: kafkajs.Admin;

beforeAll(async () => {
  admin = new Kafka({
    clientId: `ksql-failures-${run}`,
    brokers: [stackEndpoints().kafka.plaintext],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
});

afterAll(async () => {
  const topics = (await admin.listTopics()).filter((topic) => topic.includes(run));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  // The killed servers' consumers leave their groups only when the session times out (10 s): retry until then.
  for (let attempt = 0; attempt < 30; attempt++) {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(run));
    if (groups.length === 0) break;
    await admin.deleteGroups(groups).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await admin?.disconnect();
});

/** A dev server in its own process, so the test can kill it the way a crash or `kill -9` would. */
async function startServerProcess(serviceId: string): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    const { startKsqlDevServer } = await import(${JSON.stringify(DEV_SERVER)});
    const server = await startKsqlDevServer({ listen: '127.0.0.1:0', bootstrap: ${JSON.stringify(stackEndpoints().kafka.plaintext)}, serviceId: ${JSON.stringify(serviceId)}, log: () => {} });
    process.stdout.write(server.url + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`dev server process exited with ${code} before listening`)));
  });
  return { url, child };
}

describe.each(['http2', 'http1'] as const)('a server killed during a push query (%s)', (protocol) => {
  it('ends the row loop with a clear connection error, not a silent end', async () => {
    const { url, child } = await startServerProcess(`kc_kill_${protocol}_${run}_`);
    const client = new KsqlClient({ url, protocol });
    try {
      const stream = `KILLED_${protocol}_${run}`.toUpperCase();
      await client.executeStatement(
        `CREATE STREAM ${stream} (id VARCHAR KEY, n BIGINT) WITH (KAFKA_TOPIC='kc_killed_${protocol}_${run}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
      );
      await client.executeStatements(`INSERT INTO ${stream} (id, n) VALUES ('a', 1);`);
      const query = await client.streamQuery(`SELECT * FROM ${stream} EMIT CHANGES;`, {
        properties: { 'auto.offset.reset': 'earliest' },
      });
      const rows: unknown[] = [];
      const failure = (async () => {
        for await (const row of query) {
          rows.push(row.values);
          child.kill('SIGKILL');
        }
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      const error = await failure;
      expect(rows).toHaveLength(1);
      expect(error).toBeInstanceOf(KsqlConnectionError);
      expect((error as Error).message).toMatch(new RegExp(`dropped during query ${query.queryId} after 1 row`));
      expect((error as KsqlConnectionError).hint).toMatch(/still running/);
    } finally {
      client.close();
      child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('connection and credential failures', () => {
  it('a refused connection names the URL and says how to start the server', async () => {
    const port = await freePort();
    const client = new KsqlClient({
      url: `http://127.0.0.1:${port}`,
      unreachableHint: 'Start it with `marketplace local start`.',
    });
    try {
      const error = await client.listStreams().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KsqlConnectionError);
      expect((error as Error).message).toBe(`cannot reach ksqlDB at http://127.0.0.1:${port} (connection refused)`);
      expect((error as KsqlConnectionError).hint).toBe('Start it with `marketplace local start`.');
      expect((error as KsqlConnectionError).exitCode).toBe(1);
    } finally {
      client.close();
    }
  });

  it('wrong basic auth gives 401 with which key to check, and the secret is registered for redaction', async () => {
    const server = await startKsqlDevServer({
      listen: '127.0.0.1:0',
      bootstrap: stackEndpoints().kafka.plaintext,
      serviceId: `kc_auth_${run}_`,
      authorize: (key, secret) => key === 'KEY123' && secret === 'right-secret-value',
      log: () => undefined,
    });
    const secrets = new SecretRegistry();
    try {
      for (const protocol of ['http2', 'http1'] as const) {
        const wrong = new KsqlClient({
          url: server.url,
          protocol,
          auth: { username: 'KEY123', password: 'wrong-secret-value', source: 'the ksqlDB API key KEY123' },
          secrets,
        });
        const error = await wrong.serverInfo().catch((e: unknown) => e);
        wrong.close();
        expect(error).toBeInstanceOf(KsqlRequestError);
        expect((error as KsqlRequestError).errorCode).toBe(40100);
        expect((error as Error).message).toMatch(/rejected the credentials \(HTTP 401\)/);
        expect((error as KsqlRequestError).hint).toContain('the ksqlDB API key KEY123');
        expect(JSON.stringify({ m: (error as Error).message, h: (error as KsqlRequestError).hint })).not.toContain(
          'wrong-secret-value',
        );
        expect(secrets.redact('secret=wrong-secret-value')).toBe('secret=****');

        const none = new KsqlClient({ url: server.url, protocol });
        const missing = await none.listStreams().catch((e: unknown) => e);
        none.close();
        expect((missing as Error).message).toMatch(/requires credentials and none were sent/);

        const right = new KsqlClient({
          url: server.url,
          protocol,
          auth: { username: 'KEY123', password: 'right-secret-value' },
        });
        expect((await right.serverInfo()).ksqlServiceId).toBe(`kc_auth_${run}_`);
        right.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe.each(['http2', 'http1'] as const)('a server-side error in the middle of a push query (%s)', (protocol) => {
  it("ends the row loop with a typed KsqlError carrying the server's code and message", async () => {
    const server = await startKsqlDevServer({
      listen: '127.0.0.1:0',
      bootstrap: stackEndpoints().kafka.plaintext,
      serviceId: `kc_midstream_${protocol}_${run}_`,
      log: () => undefined,
    });
    const client = new KsqlClient({ url: server.url, protocol });
    const other = new KsqlClient({ url: server.url, protocol });
    try {
      const stream = `DOOMED_${protocol}_${run.replace(/-/g, '')}`.toUpperCase();
      await client.executeStatement(
        `CREATE STREAM ${stream} (v INT) WITH (KAFKA_TOPIC='doomed_${protocol}_${run}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
      );
      const query = await client.streamQuery(`SELECT * FROM ${stream} EMIT CHANGES;`);
      const reading = (async () => {
        for await (const row of query) void row;
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      await other.executeStatement(`DROP STREAM ${stream} DELETE TOPIC;`);
      const error = await reading;
      expect(error).toBeInstanceOf(KsqlError);
      expect((error as KsqlError).errorCode).toBe(50000);
      expect((error as KsqlError).message).toContain(stream);
    } finally {
      client.close();
      other.close();
      await server.close();
    }
  });
});

describe.each(['http2', 'http1'] as const)('a command still executing when the server answers (%s)', (protocol) => {
  it('is awaited through GET /status until it succeeds, and the next statement sees its result', async () => {
    // A response timeout of 0 ms makes the server answer every written command with its non-final status, as
    // ksqlDB does when a command outlasts ksql.server.command.response.timeout.ms.
    const server = await startKsqlDevServer({
      listen: '127.0.0.1:0',
      bootstrap: stackEndpoints().kafka.plaintext,
      serviceId: `kc_slow_${protocol}_${run}_`,
      commandResponseTimeoutMs: 0,
      log: () => undefined,
    });
    const progress: string[] = [];
    const client = new KsqlClient({
      url: server.url,
      protocol,
      onCommandProgress: (id, status) => progress.push(`${id} ${status}`),
    });
    try {
      const tag = `${protocol}_${run.replace(/-/g, '')}`.toUpperCase();
      await client.executeStatement(
        `CREATE STREAM SLOW_SRC_${tag} (id BIGINT KEY, v INT) WITH (KAFKA_TOPIC='slow_src_${tag.toLowerCase()}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
      );
      // Starting a persistent query outlasts the 0 ms: the answer carries the command's non-final status.
      const raw = await fetch(`${server.url}/ksql`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.ksql.v1+json' },
        body: JSON.stringify({
          ksql: `CREATE STREAM SLOW_MID_${tag} AS SELECT id, v FROM SLOW_SRC_${tag} EMIT CHANGES;`,
          streamsProperties: {},
        }),
      });
      const [answer] = (await raw.json()) as Array<{ commandId: string; commandStatus: { status: string } }>;
      expect(answer!.commandStatus.status).not.toBe('SUCCESS');

      const created = await client.executeStatement(
        `CREATE STREAM SLOW_OUT_${tag} AS SELECT id, v * 2 AS doubled FROM SLOW_MID_${tag} EMIT CHANGES;`,
      );
      expect(created['@type']).toBe('currentStatus');
      const status = created['@type'] === 'currentStatus' ? (created as CurrentStatusEntity).commandStatus : undefined;
      expect(status?.status).toBe('SUCCESS');
      expect(status?.queryId).toMatch(new RegExp(`^CSAS_SLOW_OUT_${tag}_\\d+$`));
      expect(progress).toContain(`stream/SLOW_OUT_${tag}/create SUCCESS`);
      expect((await client.commandStatus(answer!.commandId)).status).toBe('SUCCESS');
      expect((await client.listQueries()).map((q) => q.id)).toContain(status?.queryId);

      await client.executeStatement(`DROP STREAM SLOW_OUT_${tag} DELETE TOPIC;`);
      await client.executeStatement(`DROP STREAM SLOW_MID_${tag} DELETE TOPIC;`);
      await client.executeStatement(`DROP STREAM SLOW_SRC_${tag} DELETE TOPIC;`);
    } finally {
      client.close();
      await server.close();
    }
  });
});
