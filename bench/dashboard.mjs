#!/usr/bin/env node
// Benchmark of `marketplace dashboard` at 1,000 job_status rows/s on the local stack (which must be running:
// `marketplace local start`, with the MARKETPLACE_HOME / MARKETPLACE_LOCAL_* of the stack to use):
//   1. page update latency: a row's Kafka timestamp (the moment the join wrote it) until it is on the page in a
//      real headless Chromium, measured by the page's own clock at the animation frame after the row was inserted;
//      side by side with a plain Kafka consumer's latency for the same rows (the pipeline alone, no dashboard);
//   2. the dashboard server's RSS, sampled every 5 s while it runs, and how much it grew per minute after warm-up.
// Usage: npm run bench:dashboard [-- --seconds 60 --rate 1000 --profile DIR]   (--seconds 3600: the issue's hour;
//   --profile DIR writes the dashboard server's CPU profile there)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '10' },
    // A V8 CPU profile of the dashboard server, written into this directory when it stops (for chrome://inspect).
    profile: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const WARMUP_S = Number(args.warmup);
const CLI = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'bench-dashboard-'));
const env = {
  ...process.env,
  MARKETPLACE_TARGET: 'local',
  MARKETPLACE_PREFIX: 'bench-dash',
  MARKETPLACE_MONGO_DATABASE: 'bench_dash',
};
const bootstrap = `127.0.0.1:${process.env.MARKETPLACE_LOCAL_KAFKA_PORT ?? '19092'}`;

function cli(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || options.anyExit ? resolve(stderr) : reject(new Error(stderr))));
  });
}

function startDashboard() {
  const profiling = args.profile ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : [];
  const child = spawn(process.execPath, [...profiling, CLI, 'dashboard', '--port', '0', '--no-open'], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
      if (match) {
        clearInterval(timer);
        resolve(match[1]);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`dashboard exited: ${stderr}`));
      }
    }, 100);
  });
  return { child, url, stderr: () => stderr };
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A plain read_committed consumer of job_status: the latency the pipeline itself has, before any dashboard. */
async function referenceConsumer() {
  const kafka = new kafkajs.Kafka({
    clientId: 'bench-dashboard',
    brokers: [bootstrap],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const groupId = `bench-dashboard-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  const latencies = [];
  let measuring = false;
  await consumer.connect();
  await consumer.subscribe({ topic: 'job_status', fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      if (!measuring) return;
      for (const m of batch.messages) latencies.push(now - Number(m.timestamp));
    },
  });
  return {
    latencies,
    start: () => (measuring = true),
    stop: async () => {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

const row = (label, values, unit) =>
  `${label.padEnd(34)} ${[50, 95, 99].map((p) => `p${p} ${percentile(values, p).toFixed(0).padStart(6)} ${unit}`).join('   ')}   (${values.length} rows)`;

let dashboard;
let browser;
let reference;
try {
  await cli(['down', '--yes', '--discover'], { anyExit: true });
  await cli(['up']);
  dashboard = startDashboard();
  const url = await dashboard.url;
  browser = await chromium.launch({
    executablePath: process.env.MARKETPLACE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await page.waitForSelector('#link[data-state="live"]');
  // Each row inserted into the latest-rows table: shown at the next animation frame, by the page's clock.
  await page.evaluate(() => {
    window.__shown = [];
    window.__measuring = false;
    new MutationObserver((mutations) => {
      if (!window.__measuring) return;
      const added = mutations.flatMap((m) => [...m.addedNodes]).filter((n) => n.dataset?.ts);
      requestAnimationFrame(() => {
        const now = Date.now();
        for (const tr of added) window.__shown.push(now - Number(tr.dataset.ts));
      });
    }).observe(document.getElementById('rows'), { childList: true });
  });
  reference = await referenceConsumer();

  process.stderr.write(`producing ${RATE} jobs/s for ${SECONDS + WARMUP_S} s (${WARMUP_S} s warm-up)…\n`);
  const producing = cli([
    'produce',
    '--rate',
    String(RATE),
    '--duration',
    `${SECONDS + WARMUP_S}s`,
    '--trucks',
    '20',
    '--truck-interval',
    '1s',
    '--order-delay',
    '200ms',
  ]);
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const pid = dashboard.child.pid;
  const samples = [{ t: 0, rss: rssMiB(pid), load: loadavg()[0] }];
  const started = Date.now();
  await page.evaluate(() => (window.__measuring = true));
  reference.start();
  const countsAt = async () => Number((await page.textContent('#count-total')).replace(/\D/g, ''));
  const firstCount = await countsAt();
  const sampler = setInterval(
    () => samples.push({ t: (Date.now() - started) / 1000, rss: rssMiB(pid), load: loadavg()[0] }),
    5000,
  );
  await producing;
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const lastCount = await countsAt();
  await page.evaluate(() => (window.__measuring = false));
  const shown = await page.evaluate(() => window.__shown);
  const pipeline = reference.latencies;
  await reference.stop();
  reference = undefined;

  const rss = samples.map((s) => s.rss);
  // Memory that levels off after warm-up grows in the first half only; the second half's slope is the leak test.
  const half = samples.filter((s) => s.t >= seconds / 2);
  const growth = half.length > 1 ? ((half.at(-1).rss - half[0].rss) / (half.at(-1).t - half[0].t)) * 60 : NaN;
  const perMinute = samples.filter((s, i) => i === 0 || Math.floor(s.t / 60) > Math.floor(samples[i - 1].t / 60));
  process.stdout.write(
    `\ndashboard at ${RATE} jobs/s, measured for ${seconds.toFixed(0)} s after ${WARMUP_S} s warm-up\n`,
  );
  process.stdout.write(
    `job_status rows counted on the page: ${((lastCount - firstCount) / seconds).toFixed(0)} rows/s\n\n`,
  );
  process.stdout.write("latency from the row's Kafka timestamp\n");
  process.stdout.write(`${row('  to a plain Kafka consumer (ref.)', pipeline, 'ms')}\n`);
  process.stdout.write(`${row('  to shown on the dashboard page', shown, 'ms')}\n\n`);
  process.stdout.write(
    `dashboard server RSS: start ${rss[0].toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB, ` +
      `end ${rss.at(-1).toFixed(0)} MiB; second half ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB/min\n`,
  );
  const minutes = perMinute.map((s) => `${Math.round(s.t / 60)} min ${s.rss.toFixed(0)} MiB`);
  process.stdout.write(`  by minute: ${minutes.join(', ')}\n`);
  // Everything here shares the machine's cores: figures from a loaded machine say little about the dashboard.
  const loads = samples.map((s) => s.load);
  process.stdout.write(
    `machine load (1 min average) during the run: min ${Math.min(...loads).toFixed(1)}, ` +
      `median ${percentile(loads, 50).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}\n`,
  );
  process.stdout.write(`page errors: ${errors.length === 0 ? 'none' : errors.join('; ')}\n`);
  // What the dashboard told its user while it ran (a restart of its following, a component down), besides its URL.
  const notices = dashboard
    .stderr()
    .split('\n')
    .filter((line) => line.trim() && !line.includes(url) && !line.includes('Ctrl-C stops it'));
  process.stdout.write(`dashboard notices: ${notices.length === 0 ? 'none' : `\n  ${notices.join('\n  ')}`}\n`);
} finally {
  await reference?.stop().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  if (dashboard) {
    dashboard.child.kill('SIGINT');
    await new Promise((r) => dashboard.child.once('close', r));
  }
  await cli(['down', '--yes', '--discover'], { anyExit: true });
  rmSync(cwd, { recursive: true, force: true });
}
