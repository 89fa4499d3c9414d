import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage } from '../helpers/browser.js';
import { startCli } from '../helpers/cli.js';
import { CloudPipeline } from '../helpers/cloud-pipeline.js';
import { eventually } from '../helpers/poll.js';
import { findSecrets, type Secret, secret } from '../helpers/secret-scan.js';
import { stackEndpoints } from '../helpers/stack.js';

/**
 * `marketplace dashboard` on the cloud target, against the Confluent Cloud emulator (the way `tail` reaches it): the
 * cluster over SASL_SSL with the cluster API key, ksqlDB with its API key, connectors through the Cloud API, the
 * Atlas sink's documents with MONGODB_PASSWORD. The page shows the deployment, and no secret reaches it.
 */
const JOBS = 30;
const prefix = `e2e-cdash-${Date.now().toString(36)}`;
let root: string;
let pipeline: CloudPipeline;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'e2e-cloud-dashboard-'));
  pipeline = await CloudPipeline.start(stackEndpoints(), { dir: root, prefix, timeScale: 0.001 });
  const up = await pipeline.up();
  expect(up.code, up.stderr).toBe(0);
});

afterAll(async () => {
  await pipeline?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The Cloud API secret, MONGODB_PASSWORD, and every API key secret `up` recorded in the state file. */
function deploymentSecrets(): Secret[] {
  const secrets = [
    secret(
      'CONFLUENT_CLOUD_API_SECRET',
      pipeline.env.CONFLUENT_CLOUD_API_SECRET!,
      pipeline.env.CONFLUENT_CLOUD_API_KEY,
    ),
    secret('MONGODB_PASSWORD', pipeline.env.MONGODB_PASSWORD!),
  ];
  const state = JSON.parse(readFileSync(join(pipeline.cwd, '.marketplace', 'state.json'), 'utf8')) as {
    resources: Record<string, { id: string; secrets?: { secret?: string } }>;
  };
  for (const [name, record] of Object.entries(state.resources)) {
    if (record.secrets?.secret) secrets.push(secret(name, record.secrets.secret, record.id));
  }
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  return secrets;
}

describe('marketplace dashboard (cloud target, Confluent Cloud emulator)', () => {
  it('shows the cloud deployment live, and none of its secrets reaches the page', async () => {
    const dashboard = startCli(['dashboard', '--port', '0', '--no-open'], {
      cwd: pipeline.cwd,
      env: pipeline.env,
      timeoutMs: 300_000,
    });
    try {
      await dashboard.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//, { timeoutMs: 120_000 });
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(dashboard.stderr())![1]!;
      // The raw event stream, as any client of the server gets it, acknowledging what it reads as a page does.
      const stream = await fetch(`${url}events`);
      const reader = stream.body!.getReader();
      let events = '';
      const pump = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          events += Buffer.from(value).toString('utf8');
          const client = /event: hello\ndata: \{"client":"([^"]+)"\}/.exec(events)?.[1];
          const seq = [...events.matchAll(/^id: (\d+)$/gm)].at(-1)?.[1];
          if (client && seq) await fetch(`${url}ack?client=${client}&seq=${seq}`, { method: 'POST' });
        }
      })().catch(() => undefined);

      const browser = await openPage(url);
      try {
        const page = browser.page;
        await page.waitForSelector('#link[data-state="live"]');
        expect(await page.textContent('#meta-target')).toBe('cloud');
        expect(await page.textContent('#meta-prefix')).toBe(prefix);

        const produced = await pipeline.produce(JOBS, 23);
        expect(produced.code, produced.stderr).toBe(0);
        const expected = await pipeline.expectedStatuses();
        const accepted = [...expected.values()].filter((s) => s === 'ACCEPTED').length;
        await eventually(
          async () => {
            const shown = Number(((await page.textContent('#count-total')) ?? '').replace(/\D/g, ''));
            return shown === JOBS ? true : undefined;
          },
          90_000,
          `the page to count ${JOBS} job_status records`,
          500,
        );
        expect(Number(((await page.textContent('#count-accepted')) ?? '').replace(/\D/g, ''))).toBe(accepted);
        // The flow from the provisioned ksqlDB cluster and the Cloud API's connector, all running.
        await page.waitForSelector(`#flow [data-node="connector:${prefix}-mongo-sink"]`, { timeout: 30_000 });
        const queries = await page.$$eval('#flow [data-kind="query"] .detail', (els) => els.map((e) => e.textContent));
        expect(queries).toEqual(['RUNNING', 'RUNNING']);
        // Health: the Atlas sink's documents (through MONGODB_PASSWORD) catch up with the records.
        await eventually(
          async () => {
            const sink = await page.$eval('#sink', (el) => [el.dataset.documents, el.dataset.records]);
            return sink[0] === String(JOBS) && sink[1] === String(JOBS) ? true : undefined;
          },
          90_000,
          'the sink documents to equal the job_status records',
        );
        expect(await page.$$eval('#components .down', (els) => els.length)).toBe(0);

        const secrets = deploymentSecrets();
        const html = await page.content();
        const assets = await Promise.all(['', 'app.js', 'app.css'].map(async (p) => (await fetch(url + p)).text()));
        const hits = [
          ...findSecrets(html, 'the rendered page', secrets),
          ...findSecrets(events, 'the event stream', secrets),
          ...assets.flatMap((text, i) => findSecrets(text, `asset ${i}`, secrets)),
        ];
        expect(hits).toEqual([]);
        expect(events).toContain('"target":"cloud"');
        expect(browser.errors).toEqual([]);
        expect(browser.foreignRequests).toEqual([]);
      } finally {
        await browser.close();
        await reader.cancel().catch(() => undefined);
        await pump;
      }
      dashboard.kill('SIGINT');
      expect((await dashboard.done).code).toBe(130);
    } finally {
      dashboard.kill('SIGKILL');
    }
  });
});
