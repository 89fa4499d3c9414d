import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { StateStore, emptyState } from '../../src/core/state-store.js';
import { resolveKafkaTarget } from '../../src/kafka/connection.js';

async function configIn(dir: string, flags: Record<string, unknown>) {
  return loadConfig({ cwd: dir, env: {}, flags });
}

describe('resolveKafkaTarget', () => {
  it('local: the local stack listener, or the explicit bootstrap when given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    const secrets = new SecretRegistry();
    expect(await resolveKafkaTarget(await configIn(dir, { target: 'local', localKafkaPort: 29999 }), secrets)).toEqual({
      target: 'local',
      bootstrap: ['127.0.0.1:29999'],
    });
    const explicit = await resolveKafkaTarget(await configIn(dir, { target: 'local', bootstrapServers: 'a:1,b:2' }), secrets);
    expect(explicit.bootstrap).toEqual(['a:1', 'b:2']);
    expect(explicit.sasl).toBeUndefined();
  });

  it('cloud without a cluster API key in the state: a UserError that says to run `marketplace up`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    await new StateStore(dir).write(emptyState());
    const error = await resolveKafkaTarget(await configIn(dir, { target: 'cloud' }), new SecretRegistry()).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/no Kafka cluster API key/);
    expect(error.hint).toMatch(/marketplace up/);
  });

  it('cloud: SASL credentials from the state, the secret registered for redaction', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    const state = emptyState();
    state.resources['kafka-api-key'] = {
      kind: 'kafka-api-key',
      id: 'ABCDEFKEY',
      target: 'cloud',
      createdAt: new Date().toISOString(),
      attributes: { bootstrap: 'SASL_SSL://pkc-123.us-east-2.aws.confluent.cloud:9092' },
      secrets: { secret: 'cluster-secret-value-123' },
    };
    await new StateStore(dir).write(state);
    const secrets = new SecretRegistry();
    const target = await resolveKafkaTarget(await configIn(dir, { target: 'cloud' }), secrets);
    expect(target).toEqual({
      target: 'cloud',
      bootstrap: ['pkc-123.us-east-2.aws.confluent.cloud:9092'],
      sasl: { username: 'ABCDEFKEY', password: 'cluster-secret-value-123' },
    });
    expect(secrets.redact('x cluster-secret-value-123 y')).toBe('x **** y');
  });
});
