import { describe, expect, it } from 'vitest';
import { isClassifiedError, OperationError, UserError } from '../../src/core/errors.js';

describe('isClassifiedError: which failures wrappers may relabel', () => {
  it('takes the project’s own errors, library errors it knows and Node system errors', () => {
    expect(isClassifiedError(new UserError('bad flag'))).toBe(true);
    expect(isClassifiedError(new OperationError('server down'))).toBe(true);
    const kafka = Object.assign(new Error('leader not available'), { name: 'KafkaJSProtocolError' });
    expect(isClassifiedError(kafka)).toBe(true);
    const mongo = Object.assign(new Error('server selection timed out'), { name: 'MongoServerSelectionError' });
    expect(isClassifiedError(mongo)).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isClassifiedError(refused)).toBe(true);
  });

  it('takes the network, HTTP and TLS failures Node and fetch report', () => {
    const codes = ['EAI_AGAIN', 'ERR_HTTP2_STREAM_ERROR', 'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_CONSTANT'];
    for (const code of [...codes, 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
      expect(isClassifiedError(Object.assign(new Error(code), { code })), code).toBe(true);
    }
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(isClassifiedError(timeout)).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isClassifiedError(new TypeError('fetch failed', { cause: refused }))).toBe(true);
  });

  it('leaves bugs alone, so they reach the boundary as "unexpected failure"', () => {
    expect(isClassifiedError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isClassifiedError(new RangeError('Invalid array length'))).toBe(false);
    expect(isClassifiedError(new Error('provisioning graph bug: x is needed before it exists'))).toBe(false);
    expect(isClassifiedError('a string')).toBe(false);
    expect(isClassifiedError(Object.assign(new Error('odd'), { code: 42 }))).toBe(false);
    // Node's own ERR_* codes mostly mean a wrong call: a bug.
    const wrongCall = Object.assign(new TypeError('The "path" argument must be of type string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    expect(isClassifiedError(wrongCall)).toBe(false);
    expect(isClassifiedError(new TypeError('fetch failed', { cause: new RangeError('bad') }))).toBe(false);
  });
});
