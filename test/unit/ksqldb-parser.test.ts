import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KsqlError } from '../../src/ksqldb-dev-server/errors.js';
import { parseStatements } from '../../src/ksqldb-dev-server/sql/parser.js';

const templateDir = fileURLToPath(new URL('../../templates/ksql/', import.meta.url));

function parseError(text: string): KsqlError {
  try {
    parseStatements(text);
  } catch (error) {
    return error as KsqlError;
  }
  throw new Error(`expected a parse error for: ${text}`);
}

describe('ksqlDB dev server SQL parser', () => {
  it('parses every demo template into one statement with its text', () => {
    for (const file of readdirSync(templateDir).filter((f) => f.endsWith('.sql'))) {
      const text = readFileSync(templateDir + file, 'utf8');
      const statements = parseStatements(text);
      expect(statements, file).toHaveLength(1);
      expect(statements[0]!.kind).toBe('create');
      expect(statements[0]!.text.startsWith('CREATE')).toBe(true);
      expect(statements[0]!.text.endsWith(';')).toBe(true);
    }
  });

  it('reads the job_status join: aliases, WITHIN and GRACE PERIOD, CASE', () => {
    const [statement] = parseStatements(readFileSync(templateDir + '03-job-status.sql', 'utf8'));
    if (statement?.kind !== 'create' || !statement.query) throw new Error('not a CSAS');
    const { query } = statement;
    expect(statement.name).toBe('JOB_STATUS');
    expect(statement.ifNotExists).toBe(true);
    expect(query.from).toMatchObject({ name: 'JOBS_CREATED', alias: 'J' });
    expect(query.join).toMatchObject({
      type: 'INNER',
      right: { name: 'ORDERS_PLACED', alias: 'O' },
      within: { beforeMs: 3_600_000, afterMs: 3_600_000 },
      graceMs: 900_000,
    });
    expect(query.select.map((s) => (s.kind === 'expr' ? s.alias : '*'))).toEqual([
      'JOB_ID',
      'CUSTOMER_ID',
      'SERVICE_OPTION',
      'PRICE',
      'CURRENT_STATUS',
    ]);
    expect(query.emitChanges).toBe(true);
  });

  it('keeps backticked identifiers as written and upper-cases the rest', () => {
    const [statement] = parseStatements(
      "CREATE STREAM `Mixed` (`lower` VARCHAR KEY, other INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
    );
    if (statement?.kind !== 'create') throw new Error('not a create');
    expect(statement.name).toBe('Mixed');
    expect(statement.columns?.map((c) => [c.name, c.key])).toEqual([
      ['lower', 'KEY'],
      ['OTHER', null],
    ]);
    expect(statement.properties.get('KAFKA_TOPIC')).toBe('t');
  });

  it('splits several statements and ignores comments', () => {
    const statements = parseStatements(
      "-- a comment\nSHOW STREAMS; /* block */ LIST TABLES;\nDESCRIBE x EXTENDED;\nDROP TABLE IF EXISTS t DELETE TOPIC;\nTERMINATE CSAS_X_1;\nSET 'auto.offset.reset' = 'earliest';",
    );
    expect(statements.map((s) => s.kind)).toEqual(['list', 'list', 'describe', 'drop', 'terminate', 'set']);
    expect(statements[3]).toMatchObject({ ifExists: true, deleteTopic: true, sourceType: 'TABLE', name: 'T' });
    expect(statements[0]!.text).toBe('SHOW STREAMS;');
  });

  it('reports line and column of syntax errors', () => {
    const error = parseError('SHOW STREAMS;\nCREATE STREAM s (a INT) WITH (KAFKA_TOPIC=);');
    expect(error).toBeInstanceOf(KsqlError);
    expect(error.errorCode).toBe(40001);
    expect(error.message).toMatch(/^line 2:43: mismatched input '\)'/);
    expect(parseError('SELECT a FROM s WHERE\n  a = = 1;').message).toMatch(/^line 2:7: /);
    expect(parseError('SHOW STREAMS').message).toBe("line 1:13: mismatched input '<EOF>' expecting ';'");
    expect(parseError('FROB x;').message).toBe("line 1:1: unknown statement 'FROB'");
    expect(parseError("SELECT 'unterminated FROM s;").message).toMatch(/^line 1:8: unterminated string literal/);
  });

  it('rejects constructs outside the supported subset with a 40001 naming them', () => {
    for (const [sql, construct] of [
      ['SELECT * FROM a LEFT JOIN b ON a.id = b.id EMIT CHANGES;', 'LEFT JOIN'],
      ['CREATE TABLE t AS SELECT id, COUNT(*) FROM s WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY id;', 'WINDOW'],
      ['CREATE STREAM s2 AS SELECT * FROM s PARTITION BY x;', 'PARTITION BY'],
      ["PRINT 'topic';", 'PRINT'],
      ["CREATE STREAM s (m MAP<STRING, INT>) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');", 'MAP'],
    ] as const) {
      const error = parseError(sql);
      expect(error.errorCode, sql).toBe(40001);
      expect(error.message, sql).toContain(construct);
      expect(error.message, sql).toContain('not supported by the marketplace ksqlDB dev server');
    }
  });

  it('insists on KEY for streams and PRIMARY KEY for tables', () => {
    expect(parseError("CREATE TABLE t (id INT KEY) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');").message).toContain(
      "please use 'PRIMARY KEY' for tables",
    );
    expect(
      parseError("CREATE STREAM s (id INT PRIMARY KEY) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');").message,
    ).toContain("please use 'KEY' for streams");
  });
});
