import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/demo/result.js';
import { createKafka } from '../../src/kafka/client.js';
import { openPage } from '../helpers/browser.js';
import { startCli } from '../helpers/cli.js';
import { stackEndpoints } from '../helpers/stack.js';

describe('marketplace demo --dashboard', () => {
  it('serves the page while the demo runs, keeps it until Ctrl-C, then cleans up (exit 130)', async () => {
    const stack = stackEndpoints();
    const cwd = await mkdtemp(join(tmpdir(), 'marketplace-demo-dashboard-'));
    // The demo starts the local stack itself: it must be the test stack (same home and ports), not the default one.
    const stackSettings = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => name === 'MARKETPLACE_HOME' || name.startsWith('MARKETPLACE_LOCAL_'),
      ),
    );
    const env = { ...stackSettings, MARKETPLACE_PREFIX: 'demo-dash', MARKETPLACE_MONGO_DATABASE: 'demo_dash' };
    const demo = startCli(['demo', '--duration', '6s', '--rate', '10', '--dashboard', '--json'], {
      cwd,
      env,
      timeoutMs: 400_000,
    });
    try {
      await demo.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//, { timeoutMs: 300_000 });
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.stderr())![1]!;
      const browser = await openPage(url);
      try {
        await browser.page.waitForSelector('#link[data-state="live"]');
        expect(await browser.page.textContent('#meta-prefix')).toBe('demo-dash');
        await demo.waitFor(/the dashboard stays at http/, { timeoutMs: 120_000 });
        // Still served after the demo is done, with its rows on it.
        await browser.page.waitForFunction(
          () => Number((globalThis as any).document.querySelector('#count-total').textContent.replace(/\D/g, '')) > 0,
        );
        expect(browser.errors).toEqual([]);
      } finally {
        await browser.close();
      }
      demo.kill('SIGINT');
      const run = await demo.done;
      expect(run.code, run.stderr).toBe(130);
      const summary = JSON.parse(run.stdout) as DemoResult;
      expect(summary.jobStatus.rows).toBe(summary.jobs);
      expect(summary.kept).toBe(false);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      demo.kill('SIGKILL');
    }
    const admin = createKafka({ target: 'local', bootstrap: [stack.kafka.plaintext], clientId: 'demo-dash' }).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain('job_status');
    } finally {
      await admin.disconnect();
    }
  });
});
