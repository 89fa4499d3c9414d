import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OperationError } from '../core/errors.js';
import type { StackPaths } from './settings.js';

const run = promisify(execFile);

/**
 * A private CA and a broker certificate it signs (SAN localhost and 127.0.0.1), written as what Kafka's PEM
 * keystore wants: one file with the unencrypted PKCS#8 key followed by the certificate chain. Clients trust ca.pem.
 */
export async function generateBrokerTls(paths: StackPaths): Promise<void> {
  await mkdir(paths.tls, { recursive: true, mode: 0o700 });
  const work = join(paths.tls, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { mode: 0o700 });
  const file = (name: string) => join(work, name);
  await writeFile(
    file('broker.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'),
  );
  const openssl = async (args: string[]) => {
    try {
      await run('openssl', args, { timeout: 60_000 });
    } catch (error) {
      throw new OperationError(`openssl ${args[0]} failed while creating the broker certificate`, {
        hint: 'Check that `openssl version` works, then run `marketplace local install` again.',
        cause: error,
      });
    }
  };
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-sha256',
    '-subj',
    '/CN=marketplace local CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    file('ca-key.pem'),
    '-out',
    file('ca.pem'),
  ]);
  await openssl([
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    file('broker-key.pem'),
    '-out',
    file('broker.csr'),
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    file('broker.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    file('broker.ext'),
    '-out',
    file('broker.pem'),
  ]);
  const key = await readFile(file('broker-key.pem'), 'utf8');
  if (!key.includes('BEGIN PRIVATE KEY')) {
    throw new OperationError('openssl wrote the broker key in a format Kafka cannot read (expected PKCS#8)', {
      hint: 'Use OpenSSL 3 (`openssl version`), then run `marketplace local install` again.',
    });
  }
  const chain = `${await readFile(file('broker.pem'), 'utf8')}${await readFile(file('ca.pem'), 'utf8')}`;
  await writeFile(paths.brokerKeystore, `${key}${chain}`, { mode: 0o600 });
  await writeFile(paths.caKey, await readFile(file('ca-key.pem')), { mode: 0o600 });
  await writeFile(paths.caCert, await readFile(file('ca.pem')), { mode: 0o644 });
  await chmod(paths.brokerKeystore, 0o600);
  await rm(work, { recursive: true, force: true });
}
