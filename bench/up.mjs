#!/usr/bin/env node
// Benchmark of `marketplace up` (cloud target) against the Confluent Cloud emulator backed by the local stack, with
// the emulator's realistic durations (cluster 2 min, ksqlDB 10 min, keys and role bindings 90 s, connector 60 s)
// scaled by --scale (default 1/100) and MARKETPLACE_WAIT_SCALE set to the same factor. Prints the wall time, the sum
// of all step durations (what a sequential run would take) and the critical path (the floor for any schedule);
// target: wall ≤ 1.1 × critical path. Then `down`.
// Usage: npm run bench:up [-- --scale 0.01 --no-sink]
// Runs under tsx (it starts the emulator, which is TypeScript, in this process); needs `npm run build` and a running
// local stack (`marketplace local start`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.01' },
    'no-sink': { type: 'boolean', default: false },
  },
});
const scale = Number(args.scale);
if (!(scale > 0)) throw new Error(`--scale must be a positive number, got ${args.scale}`);

const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
const { loadConfig } = await import(dist('core/config.js'));
const { settingsFromConfig, stackStatus, endpointsOf, readKafkaUsers } = await import(dist('local/stack.js'));
const { startCloudEmulatorHarness, requireNoDemoTopics } = await import('../test/helpers/emulator.ts');

const CLI = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));

function runCli(cliArgs, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...cliArgs], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

const { values: config } = await loadConfig({ cwd: process.cwd(), env: process.env });
const settings = settingsFromConfig(config, process.env);
const status = await stackStatus({ settings });
const needed = status.services.filter((s) => s.name !== 'ksqldb');
if (!needed.every((s) => s.healthy)) {
  console.error('The local stack is not running: start it with `node bin/marketplace.js local start`.');
  process.exit(1);
}
const stack = endpointsOf(settings, await readKafkaUsers(settings.home), false);
await requireNoDemoTopics(stack, 10_000);

const dir = mkdtempSync(join(tmpdir(), 'bench-up-'));
const harness = await startCloudEmulatorHarness(stack, { dir, timeScale: scale });
const prefix = `bench-up-${Date.now().toString(36)}`;
const env = harness.cliEnv({ prefix, waitScale: scale, sink: !args['no-sink'] });
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

let exitCode = 0;
try {
  const up = await runCli(['up', '--json'], env, dir);
  if (up.code !== 0) throw new Error(`up failed (exit ${up.code}):\n${up.stderr}`);
  const result = JSON.parse(up.stdout);
  const durations = Object.entries(result.timings).map(([id, t]) => ({ id, ms: t.endMs - t.startMs, ...t }));
  const sum = durations.reduce((total, step) => total + step.ms, 0);
  const ratio = result.wallMs / result.criticalPathMs;

  console.log(
    `marketplace up (cloud, emulator time scale ${scale}, ${durations.length} steps, sink ${args['no-sink'] ? 'off' : 'on'})`,
  );
  console.log('  step                                 start      end   duration');
  for (const step of durations.sort((a, b) => a.startMs - b.startMs)) {
    console.log(
      `  ${step.id.padEnd(32)} ${String(Math.round(step.startMs)).padStart(7)} ${String(Math.round(step.endMs)).padStart(8)} ${String(Math.round(step.ms)).padStart(8)} ms`,
    );
  }
  console.log(`  sum of step durations (sequential):  ${seconds(sum)}`);
  console.log(`  critical path:                       ${seconds(result.criticalPathMs)}`);
  console.log(`  wall (provisioning graph):           ${seconds(result.wallMs)}`);
  console.log(`  wall (whole process, with startup):  ${seconds(up.ms)}`);
  console.log(
    `  wall / critical path:                ${ratio.toFixed(3)} (target ≤ 1.10) ${ratio <= 1.1 ? 'OK' : 'MISSED'}`,
  );
  console.log(`  parallel speed-up over sequential:   ${(sum / result.wallMs).toFixed(2)}×`);
  if (ratio > 1.1) exitCode = 1;

  const down = await runCli(['down', '--yes', '--json'], env, dir);
  if (down.code !== 0) throw new Error(`down failed (exit ${down.code}):\n${down.stderr}`);
  const removed = JSON.parse(down.stdout);
  console.log(
    `marketplace down: ${removed.deleted.length} deleted in ${seconds(removed.wallMs)} (process ${seconds(down.ms)}); left: ${removed.remaining.length === 0 ? 'nothing' : removed.remaining.join(', ')}`,
  );
} catch (error) {
  console.error(String(error?.message ?? error));
  exitCode = 1;
  await runCli(['down', '--yes', '--discover'], env, dir).catch(() => undefined);
} finally {
  await harness.reapKsqlServers().catch(() => undefined);
  await harness.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
