#!/usr/bin/env node
// Time to healthy of the local stack, per service and whole, cold (after `local reset`) and warm (data kept,
// processes stopped), plus a no-op start of a running stack. Uses its own home and ports, so it never touches
// the shared stack. Targets on the project machine: broker < 15 s, whole stack < 45 s.
//
//   npm run bench:stack                 one cold and one warm round
//   BENCH_RUNS=3 npm run bench:stack    three of each
//   BENCH_HOME=/tmp/mp-bench            where the bench stack lives (default ~/.cache/marketplace-bench)
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/marketplace.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 1);
const env = {
  ...process.env,
  MARKETPLACE_HOME: process.env.BENCH_HOME ?? join(homedir(), '.cache', 'marketplace-bench'),
  MARKETPLACE_LOCAL_KAFKA_PORT: '39092',
  MARKETPLACE_LOCAL_KAFKA_CONTROLLER_PORT: '39093',
  MARKETPLACE_LOCAL_KAFKA_SASL_PORT: '39094',
  MARKETPLACE_LOCAL_CONNECT_PORT: '38083',
  MARKETPLACE_LOCAL_FERRETDB_PORT: '37018',
  MARKETPLACE_LOCAL_KSQLDB_PORT: '38088',
};
const TARGETS = { kafka: 15, stack: 45 };

function cli(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'local', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`marketplace local ${args.join(' ')} exited ${code}:\n${stderr}`));
      else resolve({ seconds, json: stdout.trim() ? JSON.parse(stdout) : undefined });
    });
  });
}

async function timedStart(label) {
  const { seconds, json } = await cli(['start', '--json']);
  const row = { round: label, stack: seconds };
  for (const service of json.services) row[service.name] = service.action === 'skipped' ? null : service.seconds;
  return row;
}

const format = (value) => (value === null || value === undefined ? '-' : `${value.toFixed(1)} s`);

const rows = [];
try {
  const install = await cli(['install', '--json']);
  console.error(
    `install: ${install.seconds.toFixed(1)} s (${install.json.changed ? 'installed' : 'cached'}) in ${env.MARKETPLACE_HOME}`,
  );
  for (let i = 1; i <= runs; i++) {
    await cli(['reset', '--yes']);
    rows.push(await timedStart(`cold #${i}`));
    rows.push({ ...(await timedStart(`no-op #${i}`)) });
    await cli(['stop']);
    rows.push(await timedStart(`warm #${i}`));
    await cli(['stop']);
  }
} finally {
  await cli(['stop']).catch(() => undefined);
}

const columns = ['round', 'kafka', 'ferretdb', 'connect', 'ksqldb', 'stack'];
console.log(columns.map((c) => c.padEnd(10)).join(''));
for (const row of rows) {
  console.log(columns.map((c) => (c === 'round' ? row.round : format(row[c])).padEnd(10)).join(''));
}
const measured = rows.filter((r) => !r.round.startsWith('no-op'));
const worstKafka = Math.max(...measured.map((r) => r.kafka ?? 0));
const worstStack = Math.max(...measured.map((r) => r.stack));
console.log(
  `worst broker ${worstKafka.toFixed(1)} s (target < ${TARGETS.kafka} s: ${worstKafka < TARGETS.kafka ? 'ok' : 'MISSED'}), ` +
    `worst whole stack ${worstStack.toFixed(1)} s (target < ${TARGETS.stack} s: ${worstStack < TARGETS.stack ? 'ok' : 'MISSED'})`,
);
process.exitCode = worstKafka < TARGETS.kafka && worstStack < TARGETS.stack ? 0 : 1;
