import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readTopic } from '../../src/kafka/consumer.js';
import { type OpenedBrowser, openPage } from '../helpers/browser.js';
import { type CliRun, type RunningCli, runCli, startCli } from '../helpers/cli.js';
import { eventually } from '../helpers/poll.js';
import { serviceRunning, startStoppedServices, stopService } from '../helpers/stack-faults.js';
import { localTargetEnv, stackEndpoints } from '../helpers/stack.js';

/**
 * `marketplace dashboard` on the local target, looked at in a real headless Chromium while `produce` runs: what a
 * person sees must match what the topics hold. A screenshot of each run is kept in test-results/.
 */
const prefix = 'dash-e2e';
const database = `dash_e2e_${randomBytes(3).toString('hex')}`;
const SCREENSHOTS = join(process.cwd(), 'test-results');
let cwd: string;
let env: NodeJS.ProcessEnv;
let home: string;
let dashboard: RunningCli;
let url: string;
let browser: OpenedBrowser;

const cli = (args: string[], timeoutMs = 120_000): Promise<CliRun> => runCli(args, { cwd, env, timeoutMs });
const kafka = () =>
  createKafka({ target: 'local', bootstrap: [stackEndpoints().kafka.plaintext], clientId: 'dash-e2e' });
const text = async (selector: string) => (await browser.page.textContent(selector))?.trim() ?? '';
const number = async (selector: string) => Number((await text(selector)).replace(/[^\d]/g, ''));

async function screenshot(name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await browser.page.screenshot({ path: join(SCREENSHOTS, `dashboard-${name}-${stamp}.png`) });
}

/** ACCEPTED / REJECTED / total of the job_status topic, read straight from Kafka. */
async function topicDecisions(): Promise<{ accepted: number; rejected: number; total: number }> {
  const records = await readTopic(kafka(), 'job_status');
  const statuses = records.map((r) => (JSON.parse(r.value!) as { CURRENT_STATUS: string }).CURRENT_STATUS);
  return {
    accepted: statuses.filter((s) => s === 'ACCEPTED').length,
    rejected: statuses.filter((s) => s === 'REJECTED').length,
    total: records.length,
  };
}

async function pageDecisions(): Promise<{ accepted: number; rejected: number; total: number }> {
  return {
    accepted: await number('#count-accepted'),
    rejected: await number('#count-rejected'),
    total: await number('#count-total'),
  };
}

/** Waits until the page shows exactly what the topic holds, with `jobs` rows in it. */
async function pageMatchesTopic(jobs: number): Promise<void> {
  let last = '';
  await eventually(
    async () => {
      const topic = await topicDecisions();
      const page = await pageDecisions();
      last = `topic ${JSON.stringify(topic)}, page ${JSON.stringify(page)}`;
      return topic.total === jobs && JSON.stringify(topic) === JSON.stringify(page) ? true : undefined;
    },
    90_000,
    'the page to show the job_status records of the topic',
    500,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${last}`);
  });
}

beforeAll(async () => {
  const stack = stackEndpoints();
  home = stack.home;
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-dashboard-'));
  env = localTargetEnv(stack, { prefix, database });
  await cli(['down', '--yes', '--discover']);
  const up = await cli(['up'], 240_000);
  expect(up.code, up.stderr).toBe(0);
  dashboard = startCli(['dashboard', '--port', '0', '--no-open'], { cwd, env, timeoutMs: 600_000 });
  await dashboard.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//, { timeoutMs: 60_000 });
  url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(dashboard.stderr())![1]!;
  browser = await openPage(url);
  await browser.page.waitForSelector('#link[data-state="live"]');
});

afterAll(async () => {
  await browser?.close();
  dashboard?.kill('SIGKILL');
  if (home && !(await serviceRunning(home, 'ksqldb'))) await startStoppedServices(home);
  await cli(['down', '--yes', '--discover']);
});

describe('marketplace dashboard (local target, headless Chromium)', () => {
  it('shows the counts of the topic, every job site and truck of the run, and every demo object', async () => {
    const jobs = 40;
    const produced = await cli([
      'produce',
      '--count',
      String(jobs),
      '--seed',
      '17',
      '--rate',
      '20',
      '--trucks',
      '3',
      '--truck-interval',
      '200ms',
      '--order-delay',
      '100ms',
    ]);
    expect(produced.code, produced.stderr).toBe(0);
    await pageMatchesTopic(jobs);

    const page = browser.page;
    expect(await text('#meta-target')).toBe('local');
    expect(await text('#meta-prefix')).toBe(prefix);
    expect(await text('#meta-engine')).toBe('ksqlDB');
    // The latest rows are colour-coded by status, as the terminal tail does.
    const statusColours = await page.$$eval('#rows td[class^="status-"]', (cells) =>
      cells.map((cell) => [cell.textContent, (globalThis as any).getComputedStyle(cell).color as string]),
    );
    expect(statusColours.length).toBeGreaterThan(0);
    const colourOf = (status: string) => new Set(statusColours.filter(([s]) => s === status).map(([, c]) => c));
    expect(colourOf('ACCEPTED').size).toBeLessThanOrEqual(1);
    if (colourOf('ACCEPTED').size && colourOf('REJECTED').size) {
      expect([...colourOf('ACCEPTED')][0]).not.toBe([...colourOf('REJECTED')][0]);
    }

    // Every job site and every truck of the run is on the map.
    const sites = new Set((await readTopic(kafka(), 'joblocation')).map((r) => r.key!));
    const trucks = new Set((await readTopic(kafka(), 'tradie_truck_location')).map((r) => r.key!));
    expect(sites.size).toBe(jobs);
    expect(trucks.size).toBe(3);
    await eventually(
      async () => {
        const shownSites = new Set(await page.$$eval('#map [data-site]', (els) => els.map((e) => e.dataset.site)));
        const shownTrucks = new Set(await page.$$eval('#map [data-truck]', (els) => els.map((e) => e.dataset.truck)));
        const missing = [...sites]
          .filter((s) => !shownSites.has(s))
          .concat([...trucks].filter((t) => !shownTrucks.has(t)));
        return missing.length === 0 ? true : undefined;
      },
      30_000,
      'every job site and truck on the map',
    );
    // On the map means inside the drawn area, not somewhere off-screen.
    const box = (await page.locator('#map').boundingBox())!;
    for (const selector of ['#map [data-site]', '#map [data-truck]']) {
      for (const mark of await page.locator(selector).all()) {
        const b = (await mark.boundingBox())!;
        expect(b.x + b.width / 2).toBeGreaterThanOrEqual(box.x);
        expect(b.x + b.width / 2).toBeLessThanOrEqual(box.x + box.width);
        expect(b.y + b.height / 2).toBeGreaterThanOrEqual(box.y);
        expect(b.y + b.height / 2).toBeLessThanOrEqual(box.y + box.height);
      }
    }
    // The basemap is drawn: land outlines from the bundled Natural Earth data.
    expect(((await page.getAttribute('#basemap path.land', 'd')) ?? '').length).toBeGreaterThan(1000);

    // The flow shows every object of the demo, queries and the sink connector RUNNING.
    const expectedNodes = [
      'topic:job_created',
      'topic:order_placed',
      'topic:joblocation',
      'topic:tradie_truck_location',
      'topic:job_status',
      'topic:truck_tracker',
      'stream:JOBS_CREATED',
      'stream:ORDERS_PLACED',
      'stream:JOB_STATUS',
      'stream:VEHICLES',
      'table:JOBLOCATION',
      'table:TRUCK_TRACKER',
      `connector:${prefix}-mongo-sink`,
      'producer:marketplace-produce',
    ];
    const nodes = await page.$$eval('#flow [data-node]', (els) => els.map((e) => e.dataset.node));
    expect(nodes).toEqual(expect.arrayContaining(expectedNodes));
    const queries = await page.$$eval('#flow [data-kind="query"] .detail', (els) => els.map((e) => e.textContent));
    expect(queries).toHaveLength(2);
    expect(queries.every((state) => state === 'RUNNING')).toBe(true);
    expect(await text(`#flow [data-node="connector:${prefix}-mongo-sink"] .detail`)).toBe('RUNNING');

    // Health: the sink's documents catch up with the job_status records.
    await eventually(
      async () => {
        const sink = await page.$eval('#sink', (el) => [el.dataset.documents, el.dataset.records]);
        return sink[0] === String(jobs) && sink[1] === String(jobs) ? true : undefined;
      },
      60_000,
      'MongoDB documents to equal the job_status records on the page',
    );
    expect(await page.$$eval('#components .down', (els) => els.length)).toBe(0);

    await screenshot('local');
    // Light and dark: the theme button goes auto → light → dark, and the page follows.
    const background = () =>
      page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor);
    const light = await background();
    await page.click('#theme');
    await page.click('#theme');
    expect(await text('#theme')).toBe('theme: dark');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.dataset.theme)).toBe('dark');
    expect(await background()).not.toBe(light);
    await screenshot('local-dark');
    expect(browser.errors).toEqual([]);
    // Nothing on the page comes from the internet: the map, chart and graph are all bundled.
    expect(browser.foreignRequests).toEqual([]);
    expect(dashboard.stderr()).not.toMatch(/topics were made again/);
  });

  it('a restarted ksqlDB shows a banner while it is down, then says it is back, and rows flow again', async () => {
    const page = browser.page;
    const before = (await topicDecisions()).total;
    await stopService(home, 'ksqldb');
    await page.waitForSelector('.banner.down[data-component="ksqlDB"]', { timeout: 30_000 });
    expect(await text('.banner.down[data-component="ksqlDB"]')).toMatch(/^ksqlDB is down: /);
    await screenshot('ksqldb-down');
    await startStoppedServices(home);
    await page.waitForSelector('.banner.back[data-component="ksqlDB"]', { timeout: 60_000 });
    expect(await text('.banner.back[data-component="ksqlDB"]')).toMatch(/^ksqlDB is back \(down for \d+ s\)/);
    expect(await page.$$('.banner.down[data-component="ksqlDB"]')).toHaveLength(0);

    const produced = await cli(['produce', '--count', '10', '--seed', '18', '--rate', '20', '--trucks', '0']);
    expect(produced.code, produced.stderr).toBe(0);
    await pageMatchesTopic(before + 10);
    expect(browser.errors).toEqual([]);
  });

  it('--tiles puts a raster tile layer under the map, fetched from that server only', async () => {
    // A 1×1 PNG for every z/x/y, from a tile server on this machine.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const requested: string[] = [];
    const tiles = createServer((req, res) => {
      requested.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const template = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
    const withTiles = startCli(['dashboard', '--port', '0', '--no-open', '--tiles', template], {
      cwd,
      env,
      timeoutMs: 120_000,
    });
    try {
      await withTiles.waitFor(/at http:\/\/127\.0\.0\.1:\d+\//);
      const tiledUrl = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(withTiles.stderr())![1]!;
      const tiled = await openPage(tiledUrl);
      try {
        await tiled.page.waitForSelector('#basemap .tiles image');
        await eventually(async () => (requested.length > 0 ? true : undefined), 10_000, 'tiles to be requested');
        expect(requested.every((path) => /^\/\d+\/\d+\/\d+\.png$/.test(path))).toBe(true);
        expect(await tiled.page.textContent('#attribution')).toMatch(/tiles: 127\.0\.0\.1:\d+/);
        expect(tiled.errors).toEqual([]);
      } finally {
        await tiled.close();
      }
    } finally {
      withTiles.kill('SIGINT');
      await withTiles.done;
      await new Promise((resolve) => tiles.close(resolve));
    }
  });

  it('after down and up, shows the new deployment from its first record, none of the old one', async () => {
    const page = browser.page;
    const down = await cli(['down', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    // The consumer may complain first; within a health round the banner says what happened and what to do.
    await page.waitForSelector('.banner.down[data-component="Kafka"]', { timeout: 30_000 });
    await eventually(
      async () => (/do not exist; run `marketplace up`/.test(await text('.banner.down')) ? true : undefined),
      30_000,
      'the banner to say the topics are gone',
    );
    const up = await cli(['up'], 240_000);
    expect(up.code, up.stderr).toBe(0);

    const jobs = 6;
    const produced = await cli(['produce', '--count', String(jobs), '--seed', '19', '--rate', '20', '--trucks', '1']);
    expect(produced.code, produced.stderr).toBe(0);
    await pageMatchesTopic(jobs);
    const sites = new Set((await readTopic(kafka(), 'joblocation')).map((r) => r.key!));
    expect(sites.size).toBe(jobs);
    await eventually(
      async () => {
        const shown = await page.$$eval('#map [data-site]', (els) => els.map((e) => e.dataset.site));
        return shown.length === jobs && shown.every((site) => sites.has(site!)) ? true : undefined;
      },
      30_000,
      "the new deployment's job sites, and only those, on the map",
    );
    expect(browser.errors).toEqual([]);
    // Said once, for this down and up: records arriving while a round reads the end offsets are no new topics.
    expect(dashboard.stderr().match(/The demo's topics were made again/g)).toHaveLength(1);
  });

  it('Ctrl-C stops the server with exit 130', async () => {
    dashboard.kill('SIGINT');
    let deadline: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      dashboard.done,
      new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error(`still running 30 s after Ctrl-C; its output:\n${dashboard.stderr()}`)),
          30_000,
        );
      }),
    ]).finally(() => clearTimeout(deadline));
    expect(done.code, done.stderr).toBe(130);
    expect(done.stderr).toMatch(/Dashboard stopped after \d+ job_status rows/);
    await eventually(
      async () =>
        (await fetch(url)
          .then(() => false)
          .catch(() => true)) || undefined,
      10_000,
      'the server to stop listening',
    );
  });

  it('a port that is no port is a usage error', async () => {
    const run = await cli(['dashboard', '--port', '70000', '--no-open']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/--port must be a port number from 0 to 65535; got "70000"/);
  });
});
