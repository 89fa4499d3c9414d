#!/usr/bin/env node
// Soak benchmark (issue #11 item 7) against the running local broker (`marketplace local start`):
// `marketplace produce --rate 5000 --duration 300` to all four input topics, with the RSS of the produce process
// sampled every 5 s. Warm-up is the first 60 s (threads start, JIT, heaps grow to their working size). Growth is
// the average RSS over the last minute against the average over the minute after warm-up (60–120 s); the target is
// no more than 10%. Prints the series and writes bench/results/soak.json ({ at, summary, series }), whose summary
// docs/RELIABILITY.md quotes.
//
//   npm run bench:soak
//   BENCH_SOAK_RATE=5000          jobs per second
//   BENCH_SOAK_SECONDS=300        length of the run
//   BENCH_SOAK_WARMUP_SECONDS=60  warm-up
// Topics are created under a unique prefix and deleted afterwards, so the shared broker is left as it was.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
const { loadConfig } = await import(dist('core/config.js'));
const { configuredEndpoints } = await import(dist('core/endpoints.js'));
const { createKafka } = await import(dist('kafka/client.js'));
const { ensureTopics } = await import(dist('kafka/topics.js'));

const CLI = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));
const RESULT = fileURLToPath(new URL('./results/soak.json', import.meta.url));
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const WARMUP_SECONDS = Number(process.env.BENCH_SOAK_WARMUP_SECONDS ?? 60);
const SAMPLE_MS = 5000;
const MAX_GROWTH = 0.1;
const COMPARE_SECONDS = 60;

const { values: config } = await loadConfig({ cwd: process.cwd(), env: process.env });
const bootstrap = configuredEndpoints({ ...config, target: 'local' }).bootstrapServers;
const kafka = createKafka({ target: 'local', bootstrap: bootstrap.split(','), clientId: 'bench-soak' });
const admin = kafka.admin();
const prefix = `soak-${randomBytes(3).toString('hex')}-`;
const templateTopics = JSON.parse(readFileSync(new URL('../templates/topics.json', import.meta.url), 'utf8')).topics;

function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined; // the process has just exited
  }
}

/** Runs produce, sampling its RSS every 5 s from the moment it starts. */
function soak() {
  return new Promise((resolve, reject) => {
    const args = [
      'produce',
      '--target',
      'local',
      '--bootstrap-servers',
      bootstrap,
      '--rate',
      String(RATE),
      '--duration',
      `${SECONDS}s`,
      '--topic-prefix',
      prefix,
      '--json',
    ];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started = performance.now();
    const series = [];
    let stdout = '';
    let stderr = '';
    const sample = () => {
      const rss = rssMb(child.pid);
      if (rss === undefined) return;
      const point = { t: Math.round((performance.now() - started) / 1000), rssMb: Math.round(rss * 10) / 10 };
      series.push(point);
      console.log(`  t=${String(point.t).padStart(3)} s  RSS ${point.rssMb.toFixed(1)} MB`);
    };
    const timer = setInterval(sample, SAMPLE_MS);
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`produce exited ${code}\n${stderr.slice(-2000)}`));
      else resolve({ result: JSON.parse(stdout), series });
    });
  });
}

const average = (points) => points.reduce((sum, p) => sum + p.rssMb, 0) / points.length;

await admin.connect();
let report;
try {
  const topics = templateTopics.filter((t) => t.role === 'input').map((t) => ({ ...t, name: prefix + t.name }));
  await ensureTopics(admin, topics);
  try {
    console.log(
      `soak: marketplace produce --rate ${RATE} --duration ${SECONDS}s against ${bootstrap}, RSS every ${SAMPLE_MS / 1000} s`,
    );
    const { result, series } = await soak();
    const afterWarmup = series.filter((p) => p.t > WARMUP_SECONDS && p.t <= WARMUP_SECONDS + COMPARE_SECONDS);
    const lastMinute = series.filter((p) => p.t > SECONDS - COMPARE_SECONDS);
    if (afterWarmup.length === 0 || lastMinute.length === 0)
      throw new Error(`too few RSS samples (${series.length}) for a ${SECONDS} s soak`);
    const baseline = average(afterWarmup);
    const end = average(lastMinute);
    const growth = end / baseline - 1;
    const peak = Math.max(...series.map((p) => p.rssMb));
    const ok = growth <= MAX_GROWTH && result.errors === 0 && result.acked === result.sent;
    const summary =
      `produce --rate ${RATE} for ${SECONDS} s (${result.acked} records acked, ${result.errors} errors, ${result.jobsPerSecond} jobs/s): ` +
      `RSS ${baseline.toFixed(0)} MB after ${WARMUP_SECONDS} s warm-up (average of ${WARMUP_SECONDS}–${WARMUP_SECONDS + COMPARE_SECONDS} s), ` +
      `${end.toFixed(0)} MB over the last minute: ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% (target ≤ +${MAX_GROWTH * 100}%), peak ${peak.toFixed(0)} MB — ${ok ? 'PASS' : 'FAIL'}`;
    report = { ok, summary, series };
  } finally {
    await admin.deleteTopics({ topics: topics.map((t) => t.name) }).catch(() => undefined);
  }
} finally {
  await admin.disconnect();
}

console.log(report.summary);
await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
await writeFile(
  RESULT,
  `${JSON.stringify({ at: new Date().toISOString(), summary: report.summary, series: report.series }, null, 2)}\n`,
);
console.log(`wrote ${RESULT}`);
process.exitCode = report.ok ? 0 : 1;
