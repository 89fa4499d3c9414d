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

  it('leaves bugs alone, so they reach the boundary as "unexpected failure"', () => {
    expect(isClassifiedError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isClassifiedError(new RangeError('Invalid array length'))).toBe(false);
    expect(isClassifiedError(new Error('provisioning graph bug: x is needed before it exists'))).toBe(false);
    expect(isClassifiedError('a string')).toBe(false);
    expect(isClassifiedError(Object.assign(new Error('odd'), { code: 42 }))).toBe(false);
  });
});
