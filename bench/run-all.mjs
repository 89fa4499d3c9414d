#!/usr/bin/env node
// Runs every benchmark in turn (dist/ is already built by `npm run bench`) and prints each one's figures.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benches = ['startup', 'stack', 'produce', 'ksql', 'up', 'dashboard'];
const failed = [];
for (const name of benches) {
  const file = fileURLToPath(new URL(`./${name}.mjs`, import.meta.url));
  if (!existsSync(file)) {
    console.log(`\n== bench:${name}: not present`);
    continue;
  }
  console.log(`\n== bench:${name}`);
  const run = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(name);
}
console.log(failed.length ? `\nmissed a target or failed: ${failed.join(', ')}` : '\nall benchmarks met their targets');
process.exitCode = failed.length ? 1 : 0;
