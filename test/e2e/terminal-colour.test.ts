import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { checkAndRecord } from '../helpers/reliability.js';

const ESCAPE = '\u001b[';

/**
 * The CLI on a real terminal: util-linux `script` gives it a pseudo-terminal, so stderr is a TTY as on a user's
 * screen. `local status` of an empty home (ports nobody listens on) prints its "stopped" column dimmed.
 */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...args].map((word) => `'${word}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('colours on a terminal', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'marketplace-colour-home-'));
    const ports = ['KAFKA', 'KAFKA_CONTROLLER', 'KAFKA_SASL', 'CONNECT', 'FERRETDB', 'KSQLDB'];
    env = { PATH: process.env.PATH, HOME: process.env.HOME, MARKETPLACE_HOME: home };
    for (const name of ports) env[`MARKETPLACE_LOCAL_${name}_PORT`] = String(await freePort());
  });

  afterAll(() => rm(home, { recursive: true, force: true }));

  it('are on for a colour terminal', async () => {
    const run = await onTerminal(['local', 'status'], { ...env, TERM: 'xterm-256color' });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(ESCAPE);
  });

  it('are off for TERM=dumb, which shows escape codes as text', async () => {
    const run = await onTerminal(['local', 'status'], { ...env, TERM: 'dumb' });
    await checkAndRecord(
      {
        item: 5,
        scenario: 'TERM=dumb on a terminal (local status)',
        expectation: 'no colour escape codes on a terminal that cannot show them',
        observed: `exit ${run.code}, ${run.output.split(ESCAPE).length - 1} escape sequences`,
      },
      () => {
        expect(run.code, run.output).toBe(0);
        expect(run.output).not.toContain(ESCAPE);
        expect(run.output).toMatch(/stopped/);
      },
    );
  });
});
