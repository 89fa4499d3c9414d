import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { SecretRegistry } from '../../src/core/redact.js';
import { StateStore, emptyState } from '../../src/core/state-store.js';
import { resolveKafkaTarget } from '../../src/kafka/connection.js';

async function configIn(dir: string, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ cwd: dir, env, flags });
}

async function cloudStateIn(dir: string): Promise<void> {
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
}

/** A throw-away self-signed CA certificate, made with the openssl command line. */
function selfSignedCa(dir: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=unit-test-ca',
      '-keyout',
      join(dir, 'ca-key.pem'),
      '-out',
      join(dir, 'ca.pem'),
    ],
    { stdio: 'ignore' },
  );
  return join(dir, 'ca.pem');
}

describe('resolveKafkaTarget', () => {
  it('local: the local stack listener, or the explicit bootstrap when given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    const secrets = new SecretRegistry();
    expect(await resolveKafkaTarget(await configIn(dir, { target: 'local', localKafkaPort: 29999 }), secrets)).toEqual({
      target: 'local',
      bootstrap: ['127.0.0.1:29999'],
    });
    const explicit = await resolveKafkaTarget(
      await configIn(dir, { target: 'local', bootstrapServers: 'a:1,b:2' }),
      secrets,
    );
    expect(explicit.bootstrap).toEqual(['a:1', 'b:2']);
    expect(explicit.sasl).toBeUndefined();
  });

  it('cloud without a cluster API key in the state: a UserError that says to run `marketplace up`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    await new StateStore(dir).write(emptyState());
    const error = await resolveKafkaTarget(await configIn(dir, { target: 'cloud' }), new SecretRegistry()).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/no Kafka cluster API key/);
    expect(error.hint).toMatch(/marketplace up/);
  });

  it('cloud: SASL credentials from the state, the secret registered for redaction', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    await cloudStateIn(dir);
    const secrets = new SecretRegistry();
    const target = await resolveKafkaTarget(await configIn(dir, { target: 'cloud' }), secrets);
    expect(target).toEqual({
      target: 'cloud',
      bootstrap: ['pkc-123.us-east-2.aws.confluent.cloud:9092'],
      sasl: { username: 'ABCDEFKEY', password: 'cluster-secret-value-123' },
    });
    expect(secrets.redact('x cluster-secret-value-123 y')).toBe('x **** y');
  });

  it('cloud with kafkaCaFile: its certificates are trusted besides the public roots; a relative path is from the working directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    await cloudStateIn(dir);
    await mkdir(join(dir, 'certs'));
    const caFile = selfSignedCa(join(dir, 'certs'));
    const pem = readFileSync(caFile, 'utf8').trim();
    const target = await resolveKafkaTarget(
      await configIn(dir, {}, { MARKETPLACE_TARGET: 'cloud', MARKETPLACE_KAFKA_CA_FILE: 'certs/ca.pem' }),
      new SecretRegistry(),
    );
    expect(target.ca).toContain(pem);
    expect(target.ca).toContain(rootCertificates[0]!);
    expect(target.sasl?.username).toBe('ABCDEFKEY');
    // Without the setting nothing replaces the default trust.
    expect(
      (await resolveKafkaTarget(await configIn(dir, { target: 'cloud' }), new SecretRegistry())).ca,
    ).toBeUndefined();
  });

  it('kafkaCaFile that is missing, not PEM or not a certificate: a UserError naming the setting and its source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'produce-conn-'));
    await cloudStateIn(dir);
    const attempt = (path: string) =>
      configIn(dir, {}, { MARKETPLACE_TARGET: 'cloud', MARKETPLACE_KAFKA_CA_FILE: path })
        .then((loaded) => resolveKafkaTarget(loaded, new SecretRegistry()))
        .catch((error: unknown) => error);

    const missing = (await attempt('nowhere.pem')) as UserError;
    expect(missing).toBeInstanceOf(UserError);
    expect(missing.message).toBe(
      `kafkaCaFile ${join(dir, 'nowhere.pem')} (from MARKETPLACE_KAFKA_CA_FILE) does not exist`,
    );
    expect(missing.hint).toMatch(/PEM file of CA certificates/);

    await writeFile(join(dir, 'text.pem'), 'not a certificate\n');
    expect(((await attempt('text.pem')) as UserError).message).toMatch(/holds no PEM certificate/);

    await writeFile(join(dir, 'garbled.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(((await attempt('garbled.pem')) as UserError).message).toMatch(
      /certificate 1 of 1 is not a valid X.509 certificate/,
    );

    await mkdir(join(dir, 'a-directory.pem'));
    expect(((await attempt('a-directory.pem')) as UserError).message).toMatch(/cannot be read \(EISDIR\)/);
  });
});
