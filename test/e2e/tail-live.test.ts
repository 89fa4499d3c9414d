import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { eventually } from '../helpers/poll.js';
import { stackEndpoints } from '../helpers/stack.js';

/** `tail truck_tracker --live` in a real terminal (tmux): one line per job, rewritten in place as trucks move. */
const session = `marketplace-live-${process.pid}`;
let cwd: string;
let env: Record<string, string>;

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

beforeAll(async () => {
  const stack = stackEndpoints();
  cwd = await mkdtemp(join(tmpdir(), 'marketplace-live-'));
  env = {
    MARKETPLACE_TARGET: 'local',
    MARKETPLACE_PREFIX: 'live-e2e',
    MARKETPLACE_BOOTSTRAP_SERVERS: stack.kafka.plaintext,
    MARKETPLACE_KSQLDB_URL: stack.ksqldb!.url,
    MARKETPLACE_CONNECT_URL: stack.connect.url,
    MARKETPLACE_MONGO_URI: stack.ferretdb.uri,
  };
  await runCli(['down', '--yes', '--discover'], { cwd, env, timeoutMs: 120_000 });
  const up = await runCli(['up'], { cwd, env, timeoutMs: 180_000 });
  expect(up.code, up.stderr).toBe(0);
});

afterAll(async () => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone
  }
  await runCli(['down', '--yes', '--discover'], { cwd, env, timeoutMs: 120_000 });
});

describe('tail --live', () => {
  it('shows one line per job and updates it while trucks move', async () => {
    const exports = Object.entries({ ...env, PATH: process.env.PATH ?? '' })
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '40',
      '-c',
      cwd,
      `env ${exports} node ${CLI} tail truck_tracker --live --from-beginning; sleep 30`,
    );
    const producing = runCli(
      ['produce', '--rate', '0.5', '--trucks', '2', '--truck-interval', '500ms', '--duration', '12s', '--seed', '5'],
      { cwd, env, timeoutMs: 60_000 },
    );
    // The screen is sampled for as long as produce runs, and a little after, so the last rows are drawn.
    const snapshots: string[] = [];
    let produced = false;
    void producing.finally(() => {
      produced = true;
    });
    await eventually(
      async () => {
        snapshots.push(screen());
        return produced ? true : undefined;
      },
      60_000,
      'produce to finish',
      500,
    );
    await eventually(
      async () => {
        const text = screen();
        snapshots.push(text);
        return /^\d+\s+TRUCK-/m.test(text) ? true : undefined;
      },
      15_000,
      'truck rows on the screen',
      500,
    );
    await producing;
    const last = snapshots.at(-1)!;
    expect(last).toMatch(/JOB_ID\s+VEHICLE_ID\s+LAT\s+LONG/);
    const rowsOf = (text: string) => text.split('\n').filter((line) => /^\d+\s+TRUCK-/.test(line));
    const rows = rowsOf(last);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    // One line per job: no job id appears twice on the screen.
    const ids = rows.map((line) => line.split(/\s+/)[0]);
    expect(new Set(ids).size).toBe(ids.length);
    // The same lines were rewritten: an earlier snapshot showed the same job with other numbers.
    const earlier = snapshots.slice(0, -1).flatMap(rowsOf);
    expect(earlier.some((line) => ids.includes(line.split(/\s+/)[0]) && !rows.includes(line))).toBe(true);

    tmux('send-keys', '-t', session, 'C-c');
    const summary = await eventually(
      async () => (/rows from truck_tracker/.test(screen()) ? screen() : undefined),
      10_000,
    );
    expect(summary).toMatch(/rows from truck_tracker/);
  });
});
