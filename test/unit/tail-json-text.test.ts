import { describe, expect, it } from 'vitest';
import { jsonText } from '../../src/tail/kafka-source.js';

describe('tail --via kafka reads a value as JSON', () => {
  it('plain JSON as it is', () => {
    expect(jsonText(Buffer.from('{"JOB_ID":1}'))).toBe('{"JOB_ID":1}');
  });

  it('JSON written with a schema id (Confluent wire format: a zero byte, a 4-byte id) after those five bytes', () => {
    const framed = Buffer.concat([Buffer.from([0, 0, 1, 0x86, 0xa1]), Buffer.from('{"JOB_ID":2}')]);
    expect(jsonText(framed)).toBe('{"JOB_ID":2}');
  });
});
