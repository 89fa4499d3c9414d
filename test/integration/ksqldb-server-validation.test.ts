import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  kafkaClient,
  ksql,
  ksqlOk,
  startServer,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

// Statements ksqlDB refuses are refused over /ksql the same way: HTTP 400, a statement_error 40001 with ksqlDB's
// message, and nothing created.
describe('ksqlDB dev server: statements refused as ksqlDB refuses them', () => {
  const suffix = uniqueSuffix();
  const serviceId = `validation${suffix}_`;
  let client: KafkaTestClient;
  let server: KsqlDevServer | undefined;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(serviceId);
    await ksqlOk(
      server.url,
      `CREATE STREAM prices (id INT KEY, amount DECIMAL(2, 1), name STRING) WITH (KAFKA_TOPIC='prices${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
    );
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  const refused = async (sql: string) => {
    const result = await ksql(server!.url, sql);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ '@type': 'statement_error', error_code: 40001, statementText: sql });
    return result.body.message as string;
  };

  it('a DECIMAL key, which the KAFKA key format cannot hold', async () => {
    expect(
      await refused(
        `CREATE TABLE amounts (k DECIMAL(21, 19) PRIMARY KEY, id BIGINT) WITH (KAFKA_TOPIC='amounts${suffix}', PARTITIONS=1, VALUE_FORMAT='JSON');`,
      ),
    ).toBe(
      'Key format does not support schema.\nformat: KAFKA\nschema: Persistence{columns=[`K` DECIMAL(21, 19) KEY], features=[]}\n' +
        "reason: The 'KAFKA' format does not support type 'DECIMAL'",
    );
    expect(
      await refused('CREATE TABLE by_amount AS SELECT amount AS key, COUNT(*) AS total FROM prices GROUP BY amount;'),
    ).toBe(
      'Key format does not support schema.\nformat: KAFKA\nschema: Persistence{columns=[`KEY` DECIMAL(2, 1) KEY], features=[]}\n' +
        "reason: The 'KAFKA' format does not support type 'DECIMAL'",
    );
    const topics = await client.admin.listTopics();
    expect(topics).not.toContain(`amounts${suffix}`);
    expect(topics).not.toContain('BY_AMOUNT');
  });

  it('a key projected twice, and a comparison with NULL', async () => {
    expect(await refused('CREATE STREAM twice AS SELECT id, id AS id2, name FROM prices;')).toMatch(
      /^The projection contains a key column \(`ID`\) more than once, aliased as: ID and ID2\.\n/,
    );
    expect(await refused('CREATE STREAM nulls AS SELECT * FROM prices WHERE name = NULL;')).toBe(
      "Comparison with NULL not supported: STRING = NULL\nUse 'IS NULL' or 'IS NOT NULL' instead.",
    );
  });

  it('GREATEST(*), and LEAST over arguments it has no overload for', async () => {
    expect(await refused('CREATE STREAM star AS SELECT GREATEST(*) AS hi FROM prices;')).toMatch(
      /^Function 'greatest' does not accept parameters \(\)\.\nValid alternatives are:\n/,
    );
    expect(await refused('CREATE STREAM mixed AS SELECT id, LEAST(name, id) AS lo FROM prices;')).toMatch(
      /^Function 'least' does not accept parameters \(STRING, INTEGER\)\.\nValid alternatives are:\n/,
    );
  });
});
