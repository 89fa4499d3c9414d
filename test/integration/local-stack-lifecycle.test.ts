import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/poll.js';
import { runCli } from '../helpers/cli.js';
import type { LocalResetResult, LocalStatusResult } from '../../src/commands/local.js';
import { FlinkError, FlinkGateway, FlinkJobs } from '../../src/flink-client/index.js';
import { runKeptJob } from '../../src/local/flink-jobs.js';
import { portInUse } from '../../src/local/processes.js';
import type { StackSettings, StartResult } from '../../src/local/stack.js';

/**
 * Start/stop/reset/failure behaviour against a second stack with its own home and ports, so the shared stack
 * other test files use is never stopped.
 */
const home = mkdtempSync(join(tmpdir(), 'marketplace-lifecycle-'));
const ports = {
  kafka: 29192,
  controller: 29193,
  sasl: 29194,
  connect: 28183,
  ferretdb: 27118,
  ksqldb: 28188,
  flink: 28481,
  flinkRpc: 28482,
  flinkGateway: 28483,
};
// A stand-in for the ksqlDB dev server (another module), to check the stack runs a fourth service from its slot.
const ksqldbStub = join(home, 'ksqldb-stub.mjs');
writeFileSync(
  ksqldbStub,
  `import { createServer } from 'node:http';
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const [host, port] = arg('--listen').split(':');
const args = { listen: arg('--listen'), bootstrap: arg('--bootstrap'), dataDir: arg('--data-dir') };
createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  const isHealthy = process.env.STUB_UNHEALTHY !== '1';
  res.end(JSON.stringify(req.url === '/healthcheck' ? { isHealthy, args } : {}));
}).listen(Number(port), host, () => console.log('stub ksqldb listening; healthy:', process.env.STUB_UNHEALTHY !== '1'));
`,
);
const env = {
  MARKETPLACE_FERRETDB_CURSOR_IDLE_TIMEOUT: '3s',
  MARKETPLACE_KSQLDB_SERVER_MAIN: ksqldbStub,
  MARKETPLACE_HOME: home,
  MARKETPLACE_LOCAL_KAFKA_PORT: String(ports.kafka),
  MARKETPLACE_LOCAL_KAFKA_CONTROLLER_PORT: String(ports.controller),
  MARKETPLACE_LOCAL_KAFKA_SASL_PORT: String(ports.sasl),
  MARKETPLACE_LOCAL_CONNECT_PORT: String(ports.connect),
  MARKETPLACE_LOCAL_FERRETDB_PORT: String(ports.ferretdb),
  MARKETPLACE_LOCAL_KSQLDB_PORT: String(ports.ksqldb),
  MARKETPLACE_LOCAL_FLINK_PORT: String(ports.flink),
  MARKETPLACE_LOCAL_FLINK_RPC_PORT: String(ports.flinkRpc),
  MARKETPLACE_LOCAL_FLINK_GATEWAY_PORT: String(ports.flinkGateway),
};
const cli = (args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 240_000) =>
  runCli(['local', ...args], { env: { ...env, ...extraEnv }, timeoutMs });

/** Pids of live processes whose command line mentions this test's home directory. */
function processesOfHome(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(home)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

describe('local stack lifecycle (separate home and ports)', () => {
  beforeAll(async () => {
    const install = await cli(['install'], {}, 600_000);
    expect(install.code, install.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await cli(['stop']);
    rmSync(home, { recursive: true, force: true });
  });

  it('names the missing tools in one line and exits 2 when java, mvn and go are not on PATH', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'marketplace-bare-'));
    try {
      const run = await cli(['install'], { MARKETPLACE_HOME: bare, PATH: join(bare, 'empty-bin') });
      expect(run.code).toBe(2);
      const errorLines = run.stderr.split('\n').filter((line) => line.includes('Error:'));
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(/java, mvn, go.* not found on PATH/);
      expect(errorLines[0]).toMatch(/Install a JDK 17\+.*Maven.*Go 1\.24\+/);

      const start = await cli(['start'], { MARKETPLACE_HOME: bare });
      expect(start.code).toBe(2);
      expect(start.stderr).toMatch(/not installed.*marketplace local install/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('a second install does nothing and says so quickly', async () => {
    const started = Date.now();
    const again = await cli(['install']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already installed.*nothing to do/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a port already in use, naming the port and its process, before starting anything', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.connect, '127.0.0.1', resolve));
    try {
      const run = await cli(['start']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`port ${ports.connect}`);
      expect(run.stderr).toContain(`pid ${process.pid}`);
      expect(processesOfHome()).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("stops what it started and shows the failing service's log when a service cannot become healthy", async () => {
    // Kafka rejects two listeners on one port at start-up, after FerretDB has already been started.
    const run = await cli(['start'], { MARKETPLACE_LOCAL_KAFKA_CONTROLLER_PORT: String(ports.kafka) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Error: kafka (could not start|exited during start-up)/);
    const tail = run.stderr.slice(run.stderr.search(/Last \d+ lines of .*kafka\.log/));
    expect(tail).toMatch(/two listeners on the same port/);
    expect(processesOfHome()).toEqual([]);
  });

  it("stops everything it started when a service is not healthy by its deadline, showing that service's log", async () => {
    const run = await cli(['start'], { STUB_UNHEALTHY: '1', MARKETPLACE_LOCAL_KSQLDB_DEADLINE: '3' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Error: ksqldb did not become healthy within 3 s/);
    expect(run.stderr).toMatch(/Last \d+ lines of .*ksqldb\.log:\n\s+stub ksqldb listening; healthy: false/);
    expect(processesOfHome()).toEqual([]);
  });

  it('starts, reports status as JSON, and a second start is a fast no-op', async () => {
    const first = await cli(['start']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/kafka\s+started\s+[\d.]+\s+plaintext 127\.0\.0\.1:29192/);

    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as LocalStatusResult;
    const byName = Object.fromEntries(parsed.services.map((s) => [s.name, s]));
    expect(byName.kafka).toMatchObject({
      healthy: true,
      endpoints: { plaintext: `127.0.0.1:${ports.kafka}`, sasl_ssl: `localhost:${ports.sasl}` },
    });
    expect(byName.connect).toMatchObject({ healthy: true, endpoints: { rest: `http://127.0.0.1:${ports.connect}` } });
    expect(byName.ferretdb).toMatchObject({
      healthy: true,
      endpoints: { mongodb: `mongodb://127.0.0.1:${ports.ferretdb}/` },
    });
    expect(byName.ksqldb).toMatchObject({ healthy: true, endpoints: { rest: `http://127.0.0.1:${ports.ksqldb}` } });
    const ksqldb = (await (await fetch(`http://127.0.0.1:${ports.ksqldb}/healthcheck`)).json()) as { args: unknown };
    expect(ksqldb.args).toEqual({
      listen: `127.0.0.1:${ports.ksqldb}`,
      bootstrap: `127.0.0.1:${ports.kafka}`,
      dataDir: join(home, 'data', 'ksqldb'),
    });
    // Flink is part of the stack only when asked for: neither installed nor started nor listed by default.
    expect(parsed.services.map((s) => s.name).sort()).toEqual(['connect', 'ferretdb', 'kafka', 'ksqldb']);
    expect(existsSync(join(home, 'lib-flink'))).toBe(false);
    const pids = parsed.services.map((s) => s.pid);

    const started = Date.now();
    const second = await cli(['start', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    const again = JSON.parse(second.stdout) as StartResult;
    for (const service of again.services) expect(['already-running', 'skipped']).toContain(service.action);
    expect(again.services.map((s) => s.pid)).toEqual(pids);
  });

  it('start replaces a running service of ours that stopped answering', async () => {
    const before = JSON.parse((await cli(['status', '--json'])).stdout) as LocalStatusResult;
    const ferretdb = before.services.find((s) => s.name === 'ferretdb')!;
    process.kill(ferretdb.pid!, 'SIGSTOP');
    const unhealthy = JSON.parse((await cli(['status', '--json'])).stdout) as LocalStatusResult;
    expect(unhealthy.services.find((s) => s.name === 'ferretdb')).toMatchObject({ pid: ferretdb.pid, healthy: false });

    const run = await cli(['start', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/ferretdb is running but not healthy .*restarting it/);
    const result = JSON.parse(run.stdout) as StartResult;
    const restarted = result.services.find((s) => s.name === 'ferretdb')!;
    expect(restarted.action).toBe('restarted');
    expect(restarted.pid).not.toBe(ferretdb.pid);
    expect(processesOfHome()).not.toContain(ferretdb.pid);
    expect(result.services.find((s) => s.name === 'kafka')!.action).toBe('already-running');
  });

  it('stop leaves no process of the stack running', async () => {
    expect(processesOfHome().length).toBeGreaterThanOrEqual(4);
    const stop = await cli(['stop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(processesOfHome()).toEqual([]);
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as LocalStatusResult;
    expect(status.services.every((s) => s.pid === null && !s.healthy)).toBe(true);
  });

  it('a damaged data directory points at `local reset`, and reset --yes makes start work again', async () => {
    writeFileSync(join(home, 'data', 'kafka', 'meta.properties'), 'garbage\n');
    const broken = await cli(['start']);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/damaged/);
    expect(broken.stderr).toContain('marketplace local reset');
    expect(processesOfHome()).toEqual([]);

    const refused = await cli(['reset']);
    expect(refused.code).toBe(2);

    const reset = await cli(['reset', '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    // Left running: the Flink tests below start Flink beside it rather than the whole stack again.
    const fresh = await cli(['start']);
    expect(fresh.code, fresh.stderr).toBe(0);
  });

  describe('with Flink', () => {
    const flinkPorts = [ports.flink, ports.flinkRpc, ports.flinkGateway];
    const flinkData = join(home, 'data', 'flink');
    const gatewayUrl = `http://127.0.0.1:${ports.flinkGateway}`;
    const gatewayLog = () => {
      try {
        return readFileSync(join(home, 'logs', 'flink-gateway.log'), 'utf8');
      } catch {
        return '';
      }
    };
    /** The idle timeout the gateway runs with after the reset, short enough to watch a session expire. */
    const idleTimeout = '3s';

    it('reset stops JobManager, TaskManager and gateway, forgets their jobs and state, keeps the jars; start works again', async () => {
      const install = await cli(['install', '--with', 'flink'], {}, 600_000);
      expect(install.code, install.stderr).toBe(0);
      const jars = readdirSync(join(home, 'lib-flink')).length;
      const start = await cli(['start', '--with', 'flink', '--json']);
      expect(start.code, start.stderr).toBe(0);

      // A job the stack keeps, as `up --engine flink` leaves one: the next start would resume it from its savepoint.
      const settings: StackSettings = {
        home,
        ports: {
          kafka: ports.kafka,
          kafkaController: ports.controller,
          kafkaSasl: ports.sasl,
          connect: ports.connect,
          ferretdb: ports.ferretdb,
          ksqldb: ports.ksqldb,
          flink: ports.flink,
          flinkRpc: ports.flinkRpc,
          flinkGateway: ports.flinkGateway,
        },
      };
      const { jobId } = await runKeptJob(settings, {
        pipeline: 'reset_probe',
        name: 'lifecycle-reset-probe',
        tables: [
          "CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10')",
          "CREATE TABLE drain (n BIGINT) WITH ('connector' = 'blackhole')",
        ],
        insert: 'INSERT INTO drain SELECT n FROM ticks',
      });
      const jobs = new FlinkJobs({ url: `http://127.0.0.1:${ports.flink}` });
      await eventually(
        async () => ((await jobs.checkpoints(jobId)).completed > 0 ? true : undefined),
        60_000,
        'a completed checkpoint',
      );
      for (const path of ['jobs.json', join('checkpoints', jobId), join('tmp', 'taskmanager')])
        expect(existsSync(join(flinkData, path)), path).toBe(true);

      const reset = await cli(['reset', '--yes', '--json']);
      expect(reset.code, reset.stderr).toBe(0);
      const stopped = (JSON.parse(reset.stdout) as LocalResetResult).stopped;
      for (const name of ['flink-jobmanager', 'flink-taskmanager', 'flink-gateway'])
        expect(stopped.find((s) => s.name === name)?.action, name).toBe('stopped');
      expect(stopped.find((s) => s.name === 'flink-taskmanager')?.notice).toMatch(/savepoint: reset_probe saved/);
      expect(processesOfHome()).toEqual([]);
      for (const port of flinkPorts) expect(await portInUse(port), `port ${port}`).toBe(false);
      // Checkpoints, savepoints (the one stop just took included), kept jobs, temp folders, logs and config: gone.
      expect(existsSync(flinkData)).toBe(false);
      expect(existsSync(join(home, 'config', 'flink'))).toBe(false);
      expect(existsSync(join(home, 'logs', 'flink-jobmanager.log'))).toBe(false);
      // The jars stay: Flink starts again without an install.
      expect(readdirSync(join(home, 'lib-flink'))).toHaveLength(jars);

      // With a short session idle timeout, for the keep-alive test below.
      const again = await cli(['start', '--with', 'flink', '--json'], {
        MARKETPLACE_LOCAL_FLINK_SESSION_IDLE_TIMEOUT: idleTimeout,
      });
      expect(again.code, again.stderr).toBe(0);
      const services = (JSON.parse(again.stdout) as StartResult).services.filter((s) => s.name.startsWith('flink-'));
      expect(services.map((s) => [s.name, s.action])).toEqual([
        ['flink-jobmanager', 'started'],
        ['flink-taskmanager', 'started'],
        ['flink-gateway', 'started'],
      ]);
      // Nothing resumed: the reset forgot the job the stack kept.
      expect(services.find((s) => s.name === 'flink-gateway')?.notice).toBeUndefined();
      expect(await jobs.list()).toEqual([]);
    });

    it('the gateway closes a session nobody uses after the idle timeout; the client keeps its open sessions alive', async () => {
      const interrupt = new AbortController();
      const gateway = new FlinkGateway({ url: gatewayUrl });
      // The kept session is the oldest: without its heartbeat it would expire no later than the others.
      const kept = await gateway.openSession({ name: 'kept', keepAliveMs: 300 });
      const interrupted = await new FlinkGateway({ url: gatewayUrl, signal: interrupt.signal }).openSession({
        name: 'interrupted',
        keepAliveMs: 300,
      });
      const idle = await gateway.openSession({ name: 'idle', keepAliveMs: 3_600_000 });
      // Ctrl-C: the heartbeat of that client's session stops with everything else it does.
      interrupt.abort(new Error('interrupted'));
      try {
        const expired = (session: { handle: string }) => gatewayLog().includes(`Session ${session.handle} is expired`);
        await eventually(
          async () => (expired(idle) && expired(interrupted) ? true : undefined),
          60_000,
          `the gateway to close the sessions idle for ${idleTimeout}`,
        );
        expect(expired(kept)).toBe(false);
        expect((await kept.execute('SHOW TABLES')).rows).toEqual([]);
        await expect(idle.properties()).rejects.toBeInstanceOf(FlinkError);
      } finally {
        await kept.close();
        await idle.close();
      }
    });

    it('a session left open does not keep the process from exiting', async () => {
      const client = new URL('../../dist/flink-client/index.js', import.meta.url).href;
      const script = `const { FlinkGateway } = await import(${JSON.stringify(client)});
const session = await new FlinkGateway({ url: ${JSON.stringify(gatewayUrl)} }).openSession({ keepAliveMs: 100 });
console.log(session.handle);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let handle = '';
      child.stdout.on('data', (chunk: Buffer) => (handle += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        const code = await eventually(
          () => Promise.race([exited, Promise.resolve(undefined)]),
          30_000,
          'the process to exit',
        );
        expect(code).toBe(0);
        expect(handle.trim()).toMatch(/^[0-9a-f-]{36}$/);
      } finally {
        child.kill();
      }
    });
  });
});
