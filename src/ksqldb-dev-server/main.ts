import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startKsqlDevServer } from './server.js';

interface Credential {
  key: string;
  secret: string;
}

async function readCredentials(path: string): Promise<Credential[]> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0)
    throw new Error(`--auth-file ${path} must not be readable by group or others (chmod 600)`);
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { credentials?: unknown };
  if (!Array.isArray(parsed.credentials))
    throw new Error(`--auth-file ${path} must contain {"credentials":[{"key","secret"}]}`);
  return parsed.credentials.map((c: unknown) => {
    const { key, secret } = (c ?? {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof secret !== 'string')
      throw new Error(`--auth-file ${path}: every credential needs a string key and secret`);
    return { key, secret };
  });
}

function sameSecret(expected: string, given: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:18088' },
      bootstrap: { type: 'string', default: '127.0.0.1:19092' },
      'data-dir': { type: 'string' },
      'auth-file': { type: 'string' },
      'service-id': { type: 'string' },
      'command-response-timeout-ms': { type: 'string', default: '5000' },
    },
    strict: true,
  });
  const commandResponseTimeoutMs = Number(values['command-response-timeout-ms']);
  if (!Number.isInteger(commandResponseTimeoutMs) || commandResponseTimeoutMs < 0) {
    throw new Error(
      `--command-response-timeout-ms must be a whole number of milliseconds, got '${values['command-response-timeout-ms']}'`,
    );
  }
  const credentials = values['auth-file'] ? await readCredentials(values['auth-file']) : undefined;
  const server = await startKsqlDevServer({
    listen: values.listen!,
    bootstrap: values.bootstrap!,
    dataDir: values['data-dir'],
    serviceId: values['service-id'],
    commandResponseTimeoutMs,
    authorize: credentials
      ? (key, secret) => credentials.some((c) => sameSecret(c.key, key) && sameSecret(c.secret, secret))
      : undefined,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[ksqldb-dev] ${signal}: flushing queries and stopping\n`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`[ksqldb-dev] failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
