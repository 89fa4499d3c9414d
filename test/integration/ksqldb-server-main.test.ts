import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrap,
  cleanup,
  eventually,
  kafkaClient,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';
import { freePort } from '../helpers/ports.js';

const MAIN = fileURLToPath(new URL('../../dist/ksqldb-dev-server/main.js', import.meta.url));

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('ksqlDB dev server: main.js as the local stack starts it', () => {
  const suffix = uniqueSuffix();
  let dir: string;
  let client: KafkaTestClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ksqldb-dev-main-'));
    client = await kafkaClient();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await cleanup(client, suffix);
    await client.close();
  });

  it('serves /healthcheck behind basic auth from --auth-file, keeps the secret out of its output, stops on SIGTERM', async () => {
    const authFile = join(dir, 'auth.json');
    const secret = `secret-${suffix}`;
    await writeFile(authFile, JSON.stringify({ credentials: [{ key: 'DEVKEY', secret }] }), { mode: 0o600 });
    const port = await freePort();
    const server = run([
      '--listen',
      `127.0.0.1:${port}`,
      '--bootstrap',
      bootstrap(),
      '--data-dir',
      dir,
      '--auth-file',
      authFile,
      '--service-id',
      `main${suffix}_`,
    ]);
    try {
      const url = `http://127.0.0.1:${port}`;
      const anonymous = await eventually(
        async () =>
          fetch(`${url}/healthcheck`).then(
            (r) => r,
            () => undefined,
          ),
        60_000,
        'the server to listen',
      );
      expect(anonymous.status).toBe(401);
      const health = await fetch(`${url}/healthcheck`, {
        headers: { authorization: `Basic ${Buffer.from(`DEVKEY:${secret}`).toString('base64')}` },
      });
      expect(health.status).toBe(200);
      expect(((await health.json()) as { isHealthy: boolean }).isHealthy).toBe(true);
      expect(server.output()).toContain('development stand-in, not ksqlDB');
      expect(server.output()).not.toContain(secret);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('refuses an auth file that others can read', async () => {
    const authFile = join(dir, 'open.json');
    await writeFile(authFile, JSON.stringify({ credentials: [{ key: 'K', secret: 'S' }] }));
    await chmod(authFile, 0o644);
    const server = run([
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--bootstrap',
      bootstrap(),
      '--auth-file',
      authFile,
    ]);
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('chmod 600');
  });
});
