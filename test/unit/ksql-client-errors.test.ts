import { describe, expect, it } from 'vitest';
import { ExitCode, OperationError, UserError } from '../../src/core/errors.js';
import {
  connectionError,
  errorFromResponse,
  isKsqlError,
  KsqlError,
  KsqlRequestError,
  oneLine,
  parseErrorBody,
} from '../../src/ksql-client/errors.js';

const local = { url: 'http://127.0.0.1:18088' };
const cloud = {
  url: 'https://pksqlc-abc12.us-east-2.aws.confluent.cloud',
  credentials: { source: 'the ksqlDB API key ABC in .marketplace/state.json' },
};

describe('ksqlDB error mapping', () => {
  it('a statement error keeps code, statement and server message, on one line, exit 2', () => {
    const error = errorFromResponse(
      400,
      {
        '@type': 'statement_error',
        error_code: 40001,
        message: "line 1:8: Syntax Error\nUnknown statement 'SELEC'",
        statementText: 'SELEC 1;',
      },
      local,
    );
    expect(error).toBeInstanceOf(KsqlRequestError);
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.errorCode).toBe(40001);
    expect(error.statementText).toBe('SELEC 1;');
    expect(error.message).toBe("line 1:8: Syntax Error Unknown statement 'SELEC'");
    expect(error.message).not.toContain('\n');
    expect(isKsqlError(error)).toBe(true);
  });

  it('401 on Confluent Cloud says which key to check and that it must be a ksqlDB key, not the Kafka key', () => {
    const error = errorFromResponse(401, parseErrorBody('{"error_code":40100,"message":"Unauthorized"}'), cloud);
    expect(error.errorCode).toBe(40100);
    expect(error.message).toContain('rejected the credentials');
    expect(error.hint).toContain('the ksqlDB API key ABC in .marketplace/state.json');
    expect(error.hint).toContain('lksqlc-');
    expect(error.hint).toMatch(/not the Kafka cluster key/);
  });

  it('401 without credentials says none were sent', () => {
    const error = errorFromResponse(401, {}, local);
    expect(error.message).toContain('none were sent');
    expect(error.errorCode).toBe(40100);
  });

  it('50321 explains the ACL problem with something to do about it', () => {
    const error = errorFromResponse(503, { error_code: 50321, message: 'ACLs' }, cloud);
    expect(error).toBeInstanceOf(KsqlError);
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toMatch(/ACLs are misconfigured/);
    expect(error.hint).toMatch(/configure-acls|role binding/);
  });

  it('a mid-stream error (no HTTP status) is a runtime KsqlError', () => {
    const error = errorFromResponse(
      undefined,
      { '@type': 'generic_error', error_code: 50000, message: 'Query failed' },
      {
        ...local,
        statementText: 'SELECT * FROM X EMIT CHANGES;',
      },
    );
    expect(error).toBeInstanceOf(KsqlError);
    expect(error.exitCode).toBe(ExitCode.failure);
    expect(error.statementText).toBe('SELECT * FROM X EMIT CHANGES;');
    expect(error.message).toContain('Query failed');
  });

  it('a body that is not ksqlDB JSON (proxy page) still gives a bounded message', () => {
    const error = errorFromResponse(502, parseErrorBody(`<html>${'x'.repeat(1000)}</html>`), local);
    expect(error.errorCode).toBe(50200);
    expect(error.message.length).toBeLessThan(400);
  });

  it('connection refused names the URL and carries the caller’s hint', () => {
    const error = connectionError(
      local.url,
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'Run `marketplace local start`.',
    );
    expect(error.message).toBe('cannot reach ksqlDB at http://127.0.0.1:18088 (connection refused)');
    expect(error.hint).toBe('Run `marketplace local start`.');
    expect(error.exitCode).toBe(ExitCode.failure);
  });

  it('oneLine collapses multi-line server text', () => {
    expect(oneLine('a\n  b\r\n\nc ')).toBe('a b c');
  });
});
