import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { runCli } from '../helpers/cli.js';
import { stackEndpoints } from '../helpers/stack.js';
import type { DemoResult } from '../../src/demo/result.js';

describe('marketplace demo', () => {
  it('runs for 10 s from a clean state, reports a consistent summary and leaves nothing behind', async () => {
    const stack = stackEndpoints();
    const cwd = await mkdtemp(join(tmpdir(), 'marketplace-demo-'));
    // The demo starts the local stack itself: it must be the test stack (same home and ports), not the default one.
    const stackSettings = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => name === 'MARKETPLACE_HOME' || name.startsWith('MARKETPLACE_LOCAL_'),
      ),
    );
    const env = { ...stackSettings, MARKETPLACE_PREFIX: 'demo-e2e', MARKETPLACE_MONGO_DATABASE: 'demo_e2e' };
    await runCli(['down', '--target', 'local', '--yes', '--discover'], { cwd, env, timeoutMs: 120_000 });

    const run = await runCli(['demo', '--duration', '10s', '--rate', '20', '--json'], { cwd, env, timeoutMs: 400_000 });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as DemoResult;
    expect(summary.jobs).toBeGreaterThanOrEqual(150);
    expect(summary.jobStatus.rows).toBe(summary.jobs);
    expect(summary.jobStatus.accepted + summary.jobStatus.rejected).toBe(summary.jobStatus.rows);
    expect(summary.jobStatus.accepted).toBeGreaterThan(summary.jobStatus.rejected);
    expect(summary.mongoDocuments).toBe(summary.jobStatus.rows);
    expect(summary.truckTrackerRows).toBeGreaterThan(0);
    expect(summary.kept).toBe(false);
    expect(run.stderr).toMatch(/Summary|job_status/);

    const admin = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'demo-test' }).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain('job_status');
    } finally {
      await admin.disconnect();
    }
  });
});
