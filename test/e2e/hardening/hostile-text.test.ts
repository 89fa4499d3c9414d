import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { createTopicsAndWait } from '../../../src/kafka/topics.js';
import { runCli } from '../../helpers/cli.js';
import { checkAndRecord } from '../../helpers/reliability.js';
import { stackEndpoints } from '../../helpers/stack.js';

// Bad input item 5 (#17 item 5): records are untrusted text. A record whose key and value carry terminal control
// sequences (clear screen, a window-title OSC ended by BEL, a C1 CSI, DEL) must reach stdout with every control
// character written out, in each format tail and ksql print rows in; JSON keeps the value (as \u escapes).
const run = randomBytes(3).toString('hex');
const topic = `hostile_text_${run}`;
const stream = `HOSTILE_TEXT_${run.toUpperCase()}`;
const HOSTILE = 'note\u001b[2J\u001b]0;owned\u0007\u009b31m\u007fend';
/** Not 8 bytes: an 8-byte key that is not text would be shown as a BIGINT. */
const KEY = 'key-\u001b[31m';
/** Any control character but the newline that ends each line and the tab between columns (HOSTILE has neither). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let admin: Admin;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const stack = stackEndpoints();
  if (!stack.ksqldb) throw new Error('the ksqlDB dev server is not running in the local stack');
  env = {
    MARKETPLACE_TARGET: 'local',
    MARKETPLACE_BOOTSTRAP_SERVERS: stack.kafka.plaintext,
    MARKETPLACE_KSQLDB_URL: stack.ksqldb.url,
  };
  const kafka = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'e2e-hostile-text' });
  admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: KEY, value: JSON.stringify({ NOTE: HOSTILE }) }] });
  } finally {
    await producer.disconnect();
  }
});

afterAll(async () => {
  await runCli(['ksql', `DROP STREAM IF EXISTS ${stream};`], { env });
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect();
});

describe('hardening 5: control characters in records are written out wherever rows are printed', () => {
  const tailArgs = ['tail', topic, '--via', 'kafka', '--from-beginning', '--limit', '1'];

  it('tail --format jsonl: one JSON line that keeps the value, no raw control character', async () => {
    const result = await runCli([...tailArgs, '--format', 'jsonl'], { env });
    const row = result.code === 0 ? (JSON.parse(result.stdout) as Record<string, unknown>) : undefined;
    await checkAndRecord(
      {
        item: 5,
        scenario:
          'a record with terminal escapes (CSI, OSC+BEL, C1 CSI, DEL): `marketplace tail --via kafka --format jsonl`',
        expectation: 'exit 0; stdout one JSON line with no raw control character, parsing back to the exact text',
        observed: `exit ${result.code}; stdout ${JSON.stringify(result.stdout.slice(0, 200))}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).not.toMatch(CONTROL);
        expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
        expect(row).toMatchObject({ KEY, NOTE: HOSTILE });
      },
    );
  });

  it('tail --format table: the cells show the sequences written out', async () => {
    const result = await runCli([...tailArgs, '--format', 'table'], { env });
    await checkAndRecord(
      {
        item: 5,
        scenario: 'a record with terminal escapes: `marketplace tail --via kafka --format table`',
        expectation: 'exit 0; the table shows \\x1b, \\x07, \\x9b and \\x7f as text; no raw control character',
        observed: `exit ${result.code}; stdout ${JSON.stringify(result.stdout.slice(0, 300))}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).not.toMatch(CONTROL);
        // A cell is cut to its column's width (with …): the sequences are written out up to there.
        expect(result.stdout).toContain('note\\x1b[2J\\x1b]0;owned\\x07\\x9b31m');
        expect(result.stdout).toContain('key-\\x1b[31m');
      },
    );
  });

  it('tail --json: one document that keeps the value, no raw control character', async () => {
    const result = await runCli([...tailArgs, '--json'], { env });
    const document = result.code === 0 ? (JSON.parse(result.stdout) as { rows: Record<string, unknown>[] }) : undefined;
    await checkAndRecord(
      {
        item: 5,
        scenario: 'a record with terminal escapes: `marketplace tail --via kafka --json`',
        expectation: 'exit 0; stdout one JSON document with no raw control character, holding the exact text',
        observed: `exit ${result.code}; stdout ${JSON.stringify(result.stdout.slice(0, 200))}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).not.toMatch(CONTROL);
        expect(document?.rows).toEqual([expect.objectContaining({ KEY, NOTE: HOSTILE })]);
      },
    );
  });

  it('ksql SELECT prints the row with the sequences written out', async () => {
    const create = await runCli(
      [
        'ksql',
        `CREATE STREAM ${stream} (ID VARCHAR KEY, NOTE VARCHAR) WITH (KAFKA_TOPIC='${topic}', VALUE_FORMAT='JSON');`,
      ],
      { env },
    );
    expect(create.code, create.stderr).toBe(0);
    const result = await runCli(
      ['ksql', `SET 'auto.offset.reset' = 'earliest'; SELECT * FROM ${stream} EMIT CHANGES;`, '--max-rows', '1'],
      { env },
    );
    await checkAndRecord(
      {
        item: 5,
        scenario: 'a record with terminal escapes: `marketplace ksql "SELECT * FROM … EMIT CHANGES;" --max-rows 1`',
        expectation: 'exit 0; the row shows the sequences as text; no raw control character on stdout or stderr',
        observed: `exit ${result.code}; stdout ${JSON.stringify(result.stdout.slice(0, 300))}`,
      },
      () => {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout + result.stderr).not.toMatch(CONTROL);
        expect(result.stdout).toContain('note\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x7fend');
      },
    );
  });
});
