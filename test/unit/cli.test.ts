import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { DoctorResult } from '../../src/commands/doctor.js';
import type { JsonErrorDocument } from '../../src/core/errors.js';

const SECRET = 'cloud-secret-DO-NOT-PRINT-4f9a';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'marketplace-cli-'));
}

describe('marketplace CLI frame', () => {
  it('prints help with every command and an example, exit 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: marketplace/);
    expect(run.stdout).toMatch(/^\s+init\s/m);
    expect(run.stdout).toMatch(/^\s+doctor\s/m);
    expect(run.stdout).toMatch(/Examples:/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('shows examples in a command help', async () => {
    const run = await runCli(['init', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--cluster-type <type>/);
    expect(run.stdout).toMatch(/\$ marketplace init --yes/);
  });

  it('rejects an unknown command with exit 2 and a did-you-mean hint', async () => {
    const run = await runCli(['doctr']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'doctr'/);
    expect(run.stderr).toMatch(/Did you mean doctor\?/);
    expect(run.stdout).toBe('');
  });

  it('rejects an unknown flag with exit 2 and a did-you-mean hint', async () => {
    const run = await runCli(['init', '--regoin', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--regoin'/);
    expect(run.stderr).toMatch(/Did you mean --region\?/);
  });

  it('suggests the closest sub-command for a typo, exit 2, one line', async () => {
    const typos: [string[], RegExp][] = [
      [['sink', 'verfy'], /unknown command 'verfy' \(Did you mean verify\?\)/],
      [['ksql', 'aply'], /unknown command 'aply' \(did you mean apply\?\) — Run `marketplace ksql apply`/],
      [['local', 'logs', 'kafak'], /\(did you mean "kafka"\?\) — Example: marketplace local logs kafka$/],
    ];
    for (const [args, expected] of typos) {
      const run = await runCli(args, { env: { MARKETPLACE_TARGET: 'cloud' } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
      expect(run.stderr.trim()).toMatch(expected);
      expect(run.stdout).toBe('');
    }
  });

  it('with --json and no (sub-)command: help on stderr, one JSON error on stdout, exit 2', async () => {
    for (const args of [['--json'], ['sink', '--json'], ['local', '--json']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/Usage: marketplace/);
      const parsed = JSON.parse(run.stdout) as JsonErrorDocument;
      expect(parsed.error).toEqual({ message: 'no command given (the help is on stderr)', exitCode: 2 });
    }
  });

  it('exits 2 with the help text when no command is given', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Usage: marketplace/);
  });
});

describe('marketplace init', () => {
  it('with --yes and flags writes the config and no secret', async () => {
    const cwd = await tempDir();
    const run = await runCli(
      [
        'init',
        '--yes',
        '--cloud',
        'gcp',
        '--region',
        'europe-west1',
        '--cluster-type',
        'standard',
        '--prefix',
        'acme-demo',
        '--mongo-host',
        'cluster0.abcde.mongodb.net',
        '--mongo-user',
        'app',
      ],
      {
        cwd,
        env: {
          CONFLUENT_CLOUD_API_KEY: 'ABCDEF',
          CONFLUENT_CLOUD_API_SECRET: SECRET,
          MONGODB_PASSWORD: 'mongo-pw-1234',
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const text = await readFile(join(cwd, 'marketplace.config.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({
      cloud: 'gcp',
      region: 'europe-west1',
      clusterType: 'standard',
      prefix: 'acme-demo',
      mongoHost: 'cluster0.abcde.mongodb.net',
      mongoDatabase: 'marketplace',
      mongoCollection: 'job_status',
      mongoUser: 'app',
    });
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('mongo-pw-1234');
    expect(text).not.toContain('ABCDEF');
    expect(run.stderr).toMatch(/MONGODB_PASSWORD/);
  });

  it('without a TTY and with missing values exits 2 naming them, and writes nothing', async () => {
    const cwd = await tempDir();
    const run = await runCli(['init', '--cloud', 'aws'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing: --region, --cluster-type, --prefix/);
    expect(run.stderr).not.toMatch(/--cloud,/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    await expect(stat(join(cwd, 'marketplace.config.json'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses an invalid value before writing anything', async () => {
    const cwd = await tempDir();
    const run = await runCli(['init', '--yes', '--cloud', 'aws', '--region', 'mars-north-1'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--region: unknown aws region "mars-north-1"/);
    await expect(stat(join(cwd, 'marketplace.config.json'))).rejects.toThrow(/ENOENT/);
  });

  it('does not overwrite an existing config without --force', async () => {
    const cwd = await tempDir();
    expect((await runCli(['init', '--yes'], { cwd })).code).toBe(0);
    const again = await runCli(['init', '--yes', '--prefix', 'other'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(JSON.parse(await readFile(join(cwd, 'marketplace.config.json'), 'utf8')).prefix).toBe('marketplace');
  });
});

describe('marketplace doctor --json', () => {
  let http: Server;
  let httpPort: number;
  let tcpPort: number;
  const tcp = createTcpServer((socket) => socket.end());

  beforeAll(async () => {
    http = createHttpServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    tcpPort = (tcp.address() as AddressInfo).port;
  });
  afterAll(() => {
    http.close();
    tcp.close();
  });

  // Every check passing against real servers is json-contract's first case (the local stack).
  it('passes the endpoints that answer, and fails a port that takes connections but speaks no Kafka or MongoDB', async () => {
    const cwd = await tempDir();
    const run = await runCli(['doctor', '--json', '--target', 'local'], {
      cwd,
      env: {
        MARKETPLACE_BOOTSTRAP_SERVERS: `127.0.0.1:${tcpPort}`,
        MARKETPLACE_KSQLDB_URL: `http://127.0.0.1:${httpPort}`,
        MARKETPLACE_CONNECT_URL: `http://127.0.0.1:${httpPort}`,
        MARKETPLACE_MONGO_URI: `mongodb://127.0.0.1:${tcpPort}/`,
      },
    });
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout) as DoctorResult;
    expect(result.ok).toBe(false);
    expect(result.target).toBe('local');
    expect(result.checks.map((c) => c.name)).toEqual([
      'node',
      'config',
      'credentials',
      'kafka',
      'ksqldb',
      'connect',
      'mongodb',
    ]);
    const failed = result.checks.filter((c) => !c.ok && !c.skipped).map((c) => c.name);
    expect(failed).toEqual(['kafka', 'mongodb']);
  });

  it('fails with exit 1 and a fix hint when an endpoint is down', async () => {
    const cwd = await tempDir();
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli(['doctor', '--json', '--target', 'local'], {
      cwd,
      env: {
        MARKETPLACE_BOOTSTRAP_SERVERS: `127.0.0.1:${deadPort}`,
        MARKETPLACE_KSQLDB_URL: `http://127.0.0.1:${httpPort}`,
        MARKETPLACE_CONNECT_URL: `http://127.0.0.1:${httpPort}`,
        MARKETPLACE_MONGO_URI: `mongodb://127.0.0.1:${tcpPort}/`,
      },
    });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as DoctorResult;
    expect(result.ok).toBe(false);
    const kafka = result.checks.find((c) => c.name === 'kafka')!;
    expect(kafka.ok).toBe(false);
    expect(kafka.hint).toMatch(/bootstrapServers \(MARKETPLACE_BOOTSTRAP_SERVERS\)/);
  });

  it('reports missing cloud credentials on the cloud target', async () => {
    const cwd = await tempDir();
    const run = await runCli(['doctor', '--json'], {
      cwd,
      env: { MARKETPLACE_CLOUD_API_URL: `http://127.0.0.1:${httpPort}` },
    });
    const result = JSON.parse(run.stdout) as DoctorResult;
    const credentials = result.checks.find((c) => c.name === 'credentials')!;
    expect(credentials.ok).toBe(false);
    expect(credentials.detail).toMatch(/CONFLUENT_CLOUD_API_KEY and CONFLUENT_CLOUD_API_SECRET are not set/);
    expect(result.checks.find((c) => c.name === 'cloud api')!.ok).toBe(true);
    expect(run.code).toBe(1);
  });

  it('judges the key and secret by the same shape checks as `up`', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ CONFLUENT_CLOUD_API_KEY: 'short', CONFLUENT_CLOUD_API_SECRET: 'x' }, /does not look like an API key/],
      [
        { CONFLUENT_CLOUD_API_KEY: 'ABCDEFGH12345678', CONFLUENT_CLOUD_API_SECRET: 'x' },
        /does not look like an API secret/,
      ],
    ];
    for (const [env, expected] of cases) {
      const run = await runCli(['doctor', '--json'], {
        cwd: await tempDir(),
        env: { ...env, MARKETPLACE_CLOUD_API_URL: `http://127.0.0.1:${httpPort}` },
      });
      expect(run.code).toBe(1);
      const result = JSON.parse(run.stdout) as DoctorResult;
      const credentials = result.checks.find((c) => c.name === 'credentials')!;
      expect(credentials.ok).toBe(false);
      expect(credentials.detail).toMatch(expected);
      expect(credentials.hint).toMatch(/Confluent Cloud console|create a new key/);
      const upEnv = { ...env, MARKETPLACE_CLOUD_API_URL: 'http://127.0.0.1:1' };
      const up = await runCli(['up'], { cwd: await tempDir(), env: upEnv });
      expect(up.code).toBe(2);
      expect(up.stderr).toMatch(expected);
    }
  });
});

describe('the error boundary', () => {
  // MARKETPLACE_TEST_WRITE_FAULT (src/core/fs-atomic.ts) makes the config write fail: "bug" with a TypeError, as a
  // programming error would, an errno code as the file system would.
  const stackLine = /^\s+at .+:\d+:\d+\)?$/m;

  it('reports a bug as an unexpected failure to report: one line, exit 1, the stack only with --verbose', async () => {
    const env = { MARKETPLACE_TEST_WRITE_FAULT: 'bug' };
    const run = await runCli(['init', '--yes'], { cwd: await tempDir(), env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^✖ Error: unexpected failure: simulated bug: .* — a bug in marketplace; run with --verbose for the stack trace and report it$/m,
    );
    expect(run.stderr).not.toMatch(stackLine);

    const verbose = await runCli(['init', '--yes', '--verbose'], { cwd: await tempDir(), env });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/unexpected failure: simulated bug: .* report it with the stack trace below/);
    expect(verbose.stderr).toMatch(/^TypeError: simulated bug/m);
    expect(verbose.stderr).toMatch(stackLine);

    const json = await runCli(['init', '--yes', '--json'], { cwd: await tempDir(), env });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as JsonErrorDocument;
    expect(parsed.error.exitCode).toBe(1);
    expect(parsed.error.message).toMatch(/^simulated bug: /);
  });

  it('reports a file-system failure it knows as one line with what to do, not as a bug', async () => {
    const cwd = await tempDir();
    const run = await runCli(['init', '--yes'], { cwd, env: { MARKETPLACE_TEST_WRITE_FAULT: 'EIO' } });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(
      /Error: could not write .*marketplace\.config\.json: EIO: simulated write failure.* — Check the disk/,
    );
    expect(run.stderr).not.toMatch(/unexpected failure/);
    await expect(stat(join(cwd, 'marketplace.config.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('ranges checked up front', () => {
  it('rejects a bootstrap port above 65535 with one line, exit 2', async () => {
    const run = await runCli(['produce', '--target', 'local', '--count', '1'], {
      cwd: await tempDir(),
      env: { MARKETPLACE_BOOTSTRAP_SERVERS: '127.0.0.1:99999' },
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/"bootstrapServers" must be host:port.* with ports 1-65535; got "127\.0\.0\.1:99999"/);
    expect(run.stderr).not.toMatch(/unexpected failure/);
  });

  it('rejects a duration longer than a timer can wait, without a TimeoutOverflowWarning', async () => {
    for (const value of ['1000h', '0.1ms']) {
      const run = await runCli(['produce', '--target', 'local', '--count', '1', '--connect-timeout', value], {
        cwd: await tempDir(),
        env: { MARKETPLACE_BOOTSTRAP_SERVERS: '127.0.0.1:1' },
      });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`--connect-timeout must be from 1ms to 24 days .*got "${value}"`));
      expect(run.stderr).not.toMatch(/TimeoutOverflowWarning/);
    }
  });
});

describe('untrusted text in output', () => {
  it('refuses a --where that is not one expression before any request to ksqlDB', async () => {
    let requests = 0;
    const ksql = createHttpServer((_req, res) => {
      requests++;
      res.end('[]');
    });
    await new Promise<void>((resolve) => ksql.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(ksql.address() as AddressInfo).port}`;
      for (const where of ['1=1; DROP STREAM job_status', "CURRENT_STATUS = 'ACCEPTED", 'a = 1 -- EMIT CHANGES']) {
        const run = await runCli(['tail', 'job_status', '--target', 'local', '--where', where], {
          cwd: await tempDir(),
          env: { MARKETPLACE_KSQLDB_URL: url },
        });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).toMatch(/--where must be one boolean expression; .* — Example: --where/);
      }
      expect(requests, 'requests that reached ksqlDB').toBe(0);
    } finally {
      ksql.close();
    }
  });

  it('writes out the control characters of an echoed statement, in the line and in --json', async () => {
    const statement = '\u001b[2J\u001b]0;owned\u0007\u009b1Aoops';
    for (const json of [false, true]) {
      const run = await runCli(['ksql', statement, '--target', 'local', ...(json ? ['--json'] : [])], {
        cwd: await tempDir(),
        env: { MARKETPLACE_KSQLDB_URL: 'http://127.0.0.1:1' },
      });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr + run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(run.stderr).toMatch(/unknown statement '\\x1b\[2J\\x1b\]0;'; nothing was run/);
      if (json) expect((JSON.parse(run.stdout) as JsonErrorDocument).error.message).toMatch(/\u001b\[2J/);
    }
  });
});

describe('secret redaction', () => {
  it('masks the password of user:password@host in bootstrap servers', async () => {
    const run = await runCli(['doctor', '--json', '--target', 'local'], {
      cwd: await tempDir(),
      env: { MARKETPLACE_BOOTSTRAP_SERVERS: 'broker-1:9092,app:hunter2-unregistered@broker-2:9092' },
    });
    expect(run.stdout + run.stderr).not.toContain('hunter2-unregistered');
    const result = JSON.parse(run.stdout) as DoctorResult;
    const config = result.checks.find((c) => c.name === 'config')!;
    expect(config.detail).toMatch(/got "broker-1:9092,app:\*\*\*\*@broker-2:9092"/);
  });

  it('masks a known secret echoed in an error message and in --json output', async () => {
    const cwd = await tempDir();
    const run = await runCli(['doctor', '--json'], {
      cwd,
      env: { CONFLUENT_CLOUD_API_KEY: 'KEY1', CONFLUENT_CLOUD_API_SECRET: SECRET, MARKETPLACE_PREFIX: SECRET },
    });
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    const result = JSON.parse(run.stdout) as DoctorResult;
    const config = result.checks.find((c) => c.name === 'config')!;
    expect(config.ok).toBe(false);
    expect(config.detail).toMatch(/MARKETPLACE_PREFIX: "prefix" must be .*; got "\*\*\*\*"/);
  });

  it('masks a password inside a URI even when nobody registered it', async () => {
    const cwd = await tempDir();
    const run = await runCli(['doctor', '--json', '--verbose'], {
      cwd,
      env: { MARKETPLACE_MONGO_URI: 'mongodb://app:hunter2-unregistered@127.0.0.1:27017/' },
    });
    expect(run.stdout + run.stderr).not.toContain('hunter2-unregistered');
    const result = JSON.parse(run.stdout) as DoctorResult;
    expect(result.checks.find((c) => c.name === 'config')!.detail).toMatch(
      /MARKETPLACE_MONGO_URI: "mongoUri" must be a mongodb:\/\/ or mongodb\+srv:\/\/ URI without a password; got "mongodb:\/\/app:\*\*\*\*@/,
    );
  });
});
