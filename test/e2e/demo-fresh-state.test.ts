import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/demo/result.js';
import { runCli } from '../helpers/cli.js';
import { stackEndpoints } from '../helpers/stack.js';

/** What `local install` leaves in a home; data, logs and process records are the stack's state, not copied. */
const INSTALLED = ['lib', 'bin', 'tls', 'kafka-users.json', 'manifest.json'];

const PORT_VARIABLES = ['KAFKA', 'KAFKA_CONTROLLER', 'KAFKA_SASL', 'CONNECT', 'FERRETDB', 'KSQLDB'];

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Six distinct free ports from 30000-39999, away from the shared test stack's and the defaults. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 30_000 + Math.floor(Math.random() * 10_000);
    if (!ports.includes(port) && (await portIsFree(port))) ports.push(port);
  }
  return ports;
}

/**
 * Issue #17: the README's `npx marketplace demo` failed on its first run, against a broker seconds old. A second
 * stack of its own (the installed parts of the test stack's home, other ports) is reset before each run, so every
 * demo starts the stack itself and meets a fresh broker, Connect worker and ksqlDB dev server.
 */
describe('marketplace demo from a fresh stack', () => {
  let home: string | undefined;
  let env: NodeJS.ProcessEnv = {};

  afterAll(async () => {
    if (!home) return;
    await runCli(['local', 'stop'], { env, timeoutMs: 120_000 });
    await rm(home, { recursive: true, force: true });
  });

  it('succeeds three times in a row, each right after `local reset --yes`, with consistent counts', async () => {
    const installed = stackEndpoints().home;
    home = await mkdtemp(join(tmpdir(), 'marketplace-fresh-home-'));
    for (const entry of INSTALLED) await cp(join(installed, entry), join(home, entry), { recursive: true });
    const ports = await freePorts(PORT_VARIABLES.length);
    env = {
      MARKETPLACE_HOME: home,
      ...Object.fromEntries(PORT_VARIABLES.map((name, i) => [`MARKETPLACE_LOCAL_${name}_PORT`, String(ports[i])])),
      MARKETPLACE_PREFIX: 'demo-fresh',
      MARKETPLACE_MONGO_DATABASE: 'demo_fresh',
    };
    const cwd = await mkdtemp(join(tmpdir(), 'marketplace-demo-fresh-'));

    for (let run = 1; run <= 3; run++) {
      const reset = await runCli(['local', 'reset', '--yes'], { cwd, env, timeoutMs: 120_000 });
      expect(reset.code, `reset before run ${run}: ${reset.stderr}`).toBe(0);
      const args = ['demo', '--duration', '8s', '--rate', '20', '--json'];
      const demo = await runCli(args, { cwd, env, timeoutMs: 300_000 });
      expect(demo.code, `run ${run}: ${demo.stderr.slice(-2000)}`).toBe(0);
      const summary = JSON.parse(demo.stdout) as DemoResult;
      expect(summary.stackStartedHere, `run ${run}`).toBe(true);
      expect(summary.jobs, `run ${run}`).toBeGreaterThan(0);
      expect(summary.jobStatus.rows, `run ${run}: job_status rows`).toBe(summary.jobs);
      expect(summary.mongoDocuments, `run ${run}: MongoDB documents`).toBe(summary.jobs);
    }
  }, 420_000);
});
