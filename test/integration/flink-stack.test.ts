import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readProcessRecord } from '../../src/local/processes.js';
import { stackPaths } from '../../src/local/settings.js';
import { runCli } from '../helpers/cli.js';
import { flinkStack, type FlinkEndpoints } from '../helpers/flink.js';

/** Flink as part of the local stack: health, endpoints, logs, and what its processes touch on the machine. */
const FLINK = ['flink-jobmanager', 'flink-taskmanager', 'flink-gateway'] as const;
let flink: FlinkEndpoints;
let env: NodeJS.ProcessEnv;

const cli = (args: string[]) => runCli(['local', ...args], { env, timeoutMs: 120_000 });

async function pidOf(service: (typeof FLINK)[number]): Promise<number> {
  const record = await readProcessRecord(stackPaths(flink.home).run, service);
  if (!record) throw new Error(`${service} has no process record`);
  return record.pid;
}

/** The socket inodes a process holds, from /proc/<pid>/fd. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** Local addresses (as IPv4 text where they are IPv4 or IPv4-mapped) of the sockets in LISTEN state with these inodes. */
function listeningAddresses(inodes: Set<string>): string[] {
  const addresses: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9]!)) continue;
      const [hex, port] = fields[1]!.split(':') as [string, string];
      const ipv4 = hex.length === 8 ? hex : hex.startsWith('0000000000000000FFFF0000') ? hex.slice(24) : undefined;
      const address = ipv4
        ? (ipv4.match(/../g) as string[])
            .reverse()
            .map((byte) => Number.parseInt(byte, 16))
            .join('.')
        : `[${hex}]`;
      addresses.push(`${address}:${Number.parseInt(port, 16)}`);
    }
  }
  return addresses;
}

beforeAll(async () => {
  flink = await flinkStack();
  env = { MARKETPLACE_HOME: flink.home, ...portEnv() };
});

/** The stack's ports as the test run configured them (the CLI child gets no other environment). */
function portEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MARKETPLACE_LOCAL_')));
}

describe('Flink in the local stack', () => {
  it('status shows the JobManager, TaskManager and gateway healthy, with their endpoints', async () => {
    const run = await cli(['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const services = (JSON.parse(run.stdout) as { services: { name: string; healthy: boolean; endpoints: object }[] })
      .services;
    const byName = Object.fromEntries(services.map((s) => [s.name, s]));
    expect(byName['flink-jobmanager']).toMatchObject({ healthy: true, endpoints: { rest: flink.restUrl } });
    expect(byName['flink-taskmanager']).toMatchObject({ healthy: true });
    expect(byName['flink-gateway']).toMatchObject({ healthy: true, endpoints: { sql: flink.gatewayUrl } });
  });

  it('listens on 127.0.0.1 only, on the configured ports', async () => {
    const listening = new Map<string, string[]>();
    for (const service of FLINK) listening.set(service, listeningAddresses(socketInodes(await pidOf(service))));
    const all = [...listening.values()].flat();
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const address of all) expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(listening.get('flink-jobmanager')).toContain(`127.0.0.1:${new URL(flink.restUrl).port}`);
    expect(listening.get('flink-gateway')).toContain(`127.0.0.1:${new URL(flink.gatewayUrl).port}`);
  });

  it('keeps its temp files under the home, not in the system temp folder', async () => {
    const home = flink.home;
    const systemTmp = tmpdir();
    const underHomeTmp: string[] = [];
    for (const service of FLINK) {
      const pid = await pidOf(service);
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (!target.startsWith('/')) continue;
        if (target.startsWith(join(home, 'data', 'flink', 'tmp'))) underHomeTmp.push(target);
        if (!target.startsWith(home))
          expect(target.startsWith(`${systemTmp}/`), `${service} holds ${target}`).toBe(false);
      }
    }
    // Each JVM extracts jars it loads (RPC system, planner) into its temp folder and keeps them open.
    expect(underHomeTmp.some((path) => /flink-rpc-akka.*\.jar$/.test(path))).toBe(true);
  });

  it('logs each process under its own name, and `flink` for all three', async () => {
    const one = await cli(['logs', 'flink-gateway', '-n', '5', '--json']);
    expect(one.code, one.stderr).toBe(0);
    const lines = (JSON.parse(one.stdout) as { lines: string[] }).lines;
    expect(lines).toHaveLength(5);
    const all = await cli(['logs', 'flink', '-n', '2']);
    expect(all.code, all.stderr).toBe(0);
    for (const service of FLINK) expect(all.stdout).toMatch(new RegExp(`^${service}\\s* \\| `, 'm'));
  });

  it('a second install with Flink does nothing', async () => {
    const again = await cli(['install', '--with', 'flink']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already installed.*nothing to do/);
  });
});
