import { describe, expect, it } from 'vitest';
import { KsqlRequestError } from '../../src/ksql-client/errors.js';
import {
  createdSource,
  fileLocation,
  parseDefine,
  parseSet,
  reportedPosition,
  splitStatements,
  statementKind,
} from '../../src/ksql-client/statements.js';
import { locateError } from '../../src/ksql-client/templates.js';

describe('splitting SQL into statements', () => {
  it('splits on semicolons outside quotes and comments, with each statement’s position', () => {
    const sql = [
      '-- a comment; with a semicolon',
      "CREATE STREAM a (s VARCHAR) WITH (KAFKA_TOPIC='t;1', VALUE_FORMAT='JSON');",
      "  /* block; comment */ SELECT `we;ird`, 'it''s; fine' FROM a",
      '  EMIT CHANGES;',
      'SHOW STREAMS',
    ].join('\n');
    const statements = splitStatements(sql);
    expect(statements.map((s) => [s.line, s.column])).toEqual([
      [2, 1],
      [3, 24],
      [5, 1],
    ]);
    expect(statements[0]!.text).toBe("CREATE STREAM a (s VARCHAR) WITH (KAFKA_TOPIC='t;1', VALUE_FORMAT='JSON');");
    expect(statements[1]!.text).toBe("SELECT `we;ird`, 'it''s; fine' FROM a\n  EMIT CHANGES;");
    expect(statements[2]!.text).toBe('SHOW STREAMS;');
  });

  it('reports an unterminated string at its position', () => {
    expect(() => splitStatements("SELECT 1;\nSELECT 'oops FROM x;")).toThrow(/unterminated string/);
    try {
      splitStatements("SELECT 1;\nSELECT 'oops FROM x;");
    } catch (error) {
      expect(error).toMatchObject({ line: 2, column: 8 });
    }
  });

  it('gives positions in characters across CRLF line ends and non-ASCII text', () => {
    const sql = "SELECT 'é😀;' FROM a;\r\n  SHOW STREAMS; 😀 SHOW TABLES;\r\n\tLIST TOPICS";
    expect(splitStatements(sql).map((s) => [s.line, s.column])).toEqual([
      [1, 1],
      [2, 3],
      [2, 17],
      [3, 2],
    ]);
    const unterminated = expect.objectContaining({ line: 2, column: 4 });
    expect(() => splitStatements('SHOW STREAMS;\r\n😀é `open')).toThrow(unterminated);
  });

  it('ignores text that is only comments and whitespace', () => {
    expect(splitStatements('  -- nothing\n/* here */\n')).toEqual([]);
  });
});

describe('mapping server positions onto the file', () => {
  it('shifts the first line by the statement column and keeps later lines', () => {
    const statement = { text: 'X', line: 10, column: 5, offset: 0 };
    expect(fileLocation(statement, { line: 1, column: 3 })).toEqual({ line: 10, column: 7 });
    expect(fileLocation(statement, { line: 3, column: 2 })).toEqual({ line: 12, column: 2 });
  });

  it('reads ksqlDB’s "line L:C:" prefix', () => {
    expect(reportedPosition("line 2:14: mismatched input 'FROM'")).toEqual({ line: 2, column: 14 });
    expect(reportedPosition('no position here')).toBeUndefined();
  });

  it('rewords a server error as file:line:column, keeping its class and code', () => {
    const statement = { text: 'CREATE STREAM\n  x (a INT) WITH BAD;', line: 4, column: 1, offset: 0 };
    const serverError = new KsqlRequestError("line 2:13: mismatched input 'BAD'", {
      errorCode: 40001,
      serverMessage: "line 2:13: mismatched input 'BAD'",
    });
    const located = locateError(serverError, 'queries.sql', statement) as KsqlRequestError;
    expect(located).toBeInstanceOf(KsqlRequestError);
    expect(located.message).toBe("queries.sql:5:13: mismatched input 'BAD'");
    expect(located.errorCode).toBe(40001);
    expect(located.statementText).toBe(statement.text);
  });
});

describe('statement classification', () => {
  it('routes queries, client-side statements and the rest', () => {
    expect(statementKind('/* x */ select * from a;')).toBe('query');
    expect(statementKind('-- c\nPRINT t;')).toBe('print');
    expect(statementKind("DEFINE x = 'y';")).toBe('define');
    expect(statementKind("SET 'auto.offset.reset'='earliest';")).toBe('set');
    expect(statementKind('CREATE STREAM s AS SELECT * FROM a;')).toBe('statement');
  });

  it('parses DEFINE and SET values, unescaping doubled quotes', () => {
    expect(parseDefine("DEFINE who = 'it''s me';")).toEqual({ name: 'who', value: "it's me" });
    expect(parseSet("SET 'auto.offset.reset' = 'earliest';")).toEqual({ name: 'auto.offset.reset', value: 'earliest' });
    expect(parseDefine('DEFINE broken;')).toBeUndefined();
  });

  it('finds the source a CREATE statement defines, upper-casing unquoted names', () => {
    expect(createdSource('CREATE STREAM IF NOT EXISTS orders_placed (a INT) WITH (...);')).toEqual({
      kind: 'STREAM',
      name: 'ORDERS_PLACED',
    });
    expect(createdSource('create or replace table `MixedCase` as select 1;')).toEqual({
      kind: 'TABLE',
      name: 'MixedCase',
    });
    expect(createdSource('DROP STREAM x;')).toBeUndefined();
  });
});
