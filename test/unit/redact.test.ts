import { describe, expect, it } from 'vitest';
import { MASK, SecretRegistry } from '../../src/core/redact.js';

describe('SecretRegistry', () => {
  it('masks a secret inside JSON, where a quote or backslash in it is escaped', () => {
    const secrets = new SecretRegistry();
    secrets.add('pa"ss\\word-1');
    const json = JSON.stringify({ detail: 'connected with pa"ss\\word-1' });
    expect(secrets.redactKnown(json)).toBe(JSON.stringify({ detail: `connected with ${MASK}` }));
    expect(secrets.redact(json)).not.toContain('word-1');
  });

  it('redactKnown masks registered secrets only; redact also masks passwords in URIs nobody registered', () => {
    const secrets = new SecretRegistry();
    secrets.add('s3cret-value');
    const text = 'key s3cret-value at mongodb://app:unregistered@host/';
    expect(secrets.redactKnown(text)).toBe(`key ${MASK} at mongodb://app:unregistered@host/`);
    expect(secrets.redact(text)).toBe(`key ${MASK} at mongodb://app:${MASK}@host/`);
  });
});
