#!/usr/bin/env node
// Cold-start time of the CLI: the median of 20 fresh processes for `--help` and for `--version`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));
const RUNS = 20;
const TARGET_MS = 150;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(args) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) throw new Error(`marketplace ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    times.push(elapsed);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

const baseline = (() => {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
})();

console.log(
  `startup benchmark: ${RUNS} cold runs each (node ${process.version}; bare \`node -e 0\` median ${baseline.toFixed(1)} ms)`,
);
let ok = true;
for (const args of [['--help'], ['--version']]) {
  const { median: m, min, max } = measure(args);
  const verdict = m < TARGET_MS ? 'ok' : 'OVER TARGET';
  if (m >= TARGET_MS) ok = false;
  console.log(
    `  marketplace ${args.join(' ').padEnd(10)} median ${m.toFixed(1)} ms  (min ${min.toFixed(1)}, max ${max.toFixed(1)})  target < ${TARGET_MS} ms: ${verdict}`,
  );
}
process.exitCode = ok ? 0 : 1;
