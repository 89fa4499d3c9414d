import { SECRET_ENV } from '../core/config-schema.js';
import { describeSource, type LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { configuredEndpoints } from '../core/endpoints.js';
import { credentialProblem } from '../core/credentials.js';
import { ExitCode, isCliError } from '../core/errors.js';
import { httpReachable, mongoHostPort, tcpReachable } from '../core/probes.js';
import { defineCommand } from './command.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Skipped checks do not count as failures (e.g. credentials on the local target). */
  skipped?: boolean;
  detail: string;
  hint?: string;
}

export interface DoctorResult {
  ok: boolean;
  target: string | undefined;
  checks: Check[];
}

const MIN_NODE = [20, 19] as const;

export const doctorCommand = defineCommand({
  name: 'doctor',
  summary: 'Check Node, configuration, credentials and that every endpoint answers',
  description:
    'Runs every check and reports each as pass or fail with a fix. Endpoint checks use short timeouts. ' +
    'Exits 1 if any check fails.',
  examples: [
    { command: 'marketplace doctor', description: 'check the configured target' },
    { command: 'marketplace doctor --target local --json', description: 'machine-readable checks for the local stack' },
  ],
  run: async (ctx): Promise<DoctorResult> => {
    const checks: Check[] = [checkNode()];
    let loaded: LoadedConfig | undefined;
    try {
      loaded = await ctx.loadConfig();
      checks.push({
        name: 'config',
        ok: true,
        detail: loaded.file
          ? `${loaded.file} is valid (target ${loaded.values.target})`
          : `no config file; defaults (target ${loaded.values.target})`,
      });
    } catch (error) {
      if (!isCliError(error)) throw error;
      checks.push({ name: 'config', ok: false, detail: error.message, hint: error.hint });
    }
    if (loaded) {
      checks.push(...checkCredentials(ctx, loaded));
      checks.push(...(await checkEndpoints(ctx, loaded)));
    }
    return { ok: checks.every((c) => c.ok || c.skipped), target: loaded?.values.target, checks };
  },
  render: (result, ctx) => {
    const { green, red, dim } = ctx.out.paint;
    for (const check of result.checks) {
      const mark = check.skipped ? dim('-') : check.ok ? green('✔') : red('✖');
      ctx.out.info(`${mark} ${check.name.padEnd(12)} ${check.detail}`);
      if (!check.ok && !check.skipped && check.hint) ctx.out.info(`  ${' '.repeat(12)} ${dim(`fix: ${check.hint}`)}`);
    }
    const failed = result.checks.filter((c) => !c.ok && !c.skipped).length;
    ctx.out.info(failed === 0 ? green('All checks passed.') : red(`${failed} check(s) failed.`));
  },
  exitCode: (result) => (result.ok ? ExitCode.ok : ExitCode.failure),
});

function checkNode(): Check {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: 'node',
    ok,
    detail: `Node ${process.versions.node}${ok ? '' : ` (needs ${MIN_NODE.join('.')} or newer)`}`,
    hint: ok ? undefined : `Install Node ${MIN_NODE.join('.')}+ (e.g. from nodejs.org or your package manager).`,
  };
}

function checkCredentials(ctx: Context, loaded: LoadedConfig): Check[] {
  const config = loaded.values;
  if (config.target === 'local') {
    return [{ name: 'credentials', ok: true, skipped: true, detail: 'not needed for the local target' }];
  }
  const checks: Check[] = [];
  const problem = credentialProblem(
    ctx.env[SECRET_ENV.cloudApiKey]?.trim() ?? '',
    ctx.env[SECRET_ENV.cloudApiSecret]?.trim() ?? '',
  );
  checks.push(
    problem
      ? { name: 'credentials', ok: false, detail: problem.message, hint: problem.hint }
      : { name: 'credentials', ok: true, detail: `${SECRET_ENV.cloudApiKey} and ${SECRET_ENV.cloudApiSecret} are set` },
  );
  if (config.mongoHost) {
    checks.push(
      ctx.env[SECRET_ENV.mongoPassword]
        ? {
            name: 'mongo auth',
            ok: true,
            detail: `${SECRET_ENV.mongoPassword} is set for user ${config.mongoUser ?? '(none)'}`,
          }
        : {
            name: 'mongo auth',
            ok: false,
            detail: `${SECRET_ENV.mongoPassword} is not set (mongoHost is ${config.mongoHost})`,
            hint: `Export ${SECRET_ENV.mongoPassword}, or let \`marketplace sink mongo\` prompt for it on a terminal.`,
          },
    );
  }
  return checks;
}

async function checkEndpoints(ctx: Context, loaded: LoadedConfig): Promise<Check[]> {
  const config = loaded.values;
  const endpoints = configuredEndpoints(config);
  const source = (key: 'bootstrapServers' | 'ksqldbUrl' | 'connectUrl' | 'mongoUri') =>
    config[key] !== undefined ? describeSource(loaded.sources[key], key) : 'the local stack default';
  const hintFor = (key: 'bootstrapServers' | 'ksqldbUrl' | 'connectUrl' | 'mongoUri') =>
    config[key] !== undefined
      ? `Check that the server is running, or fix ${key} (${source(key)}).`
      : 'Start the local stack with `marketplace local start`, or set the endpoint in the config.';
  const probes: Promise<Check>[] = [];
  // Short checks, and never longer than a request may take; Ctrl-C ends them all.
  const timeoutMs = Math.min(PROBE_TIMEOUT_MS, config.requestTimeout);
  const signal = ctx.signal;

  if (config.target === 'cloud') {
    const key = ctx.env[SECRET_ENV.cloudApiKey];
    const secret = ctx.env[SECRET_ENV.cloudApiSecret];
    const headers: Record<string, string> =
      key && secret ? { authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` } : {};
    probes.push(
      httpReachable(new URL('/org/v2/environments?page_size=1', config.cloudApiUrl).toString(), {
        headers,
        timeoutMs,
        signal,
      }).then((probe): Check => {
        if (!probe.ok) {
          return {
            name: 'cloud api',
            ok: false,
            detail: probe.detail,
            hint: `Check your network connection and cloudApiUrl (${config.cloudApiUrl}).`,
          };
        }
        if (probe.status === 401 && headers.authorization) {
          return {
            name: 'cloud api',
            ok: false,
            detail: `${probe.detail}: the Cloud API key was rejected`,
            hint: `Check ${SECRET_ENV.cloudApiKey}/${SECRET_ENV.cloudApiSecret}: it must be a Cloud API key, not a cluster key.`,
          };
        }
        return { name: 'cloud api', ok: true, detail: probe.detail };
      }),
    );
  }

  if (endpoints.bootstrapServers) {
    const first = endpoints.bootstrapServers.split(',')[0]!;
    probes.push(
      kafkaAnswers(first, config.target, timeoutMs, signal).then((probe) => ({
        name: 'kafka',
        ok: probe.ok,
        detail: probe.detail,
        hint: hintFor('bootstrapServers'),
      })),
    );
  }
  if (endpoints.ksqldbUrl) {
    probes.push(
      httpReachable(new URL('/info', endpoints.ksqldbUrl).toString(), { timeoutMs, signal }).then((probe) => ({
        name: 'ksqldb',
        ok: probe.ok,
        detail: probe.detail,
        hint: hintFor('ksqldbUrl'),
      })),
    );
  }
  if (endpoints.connectUrl) {
    probes.push(
      httpReachable(endpoints.connectUrl, { timeoutMs, signal }).then((probe) => ({
        name: 'connect',
        ok: probe.ok,
        detail: probe.detail,
        hint: hintFor('connectUrl'),
      })),
    );
  }
  const mongo = endpoints.mongoUri ? mongoHostPort(endpoints.mongoUri) : undefined;
  if (mongo) {
    probes.push(
      mongoAnswers(endpoints.mongoUri!, mongo, timeoutMs, signal).then((probe) => ({
        name: 'mongodb',
        ok: probe.ok,
        detail: probe.detail,
        hint: hintFor('mongoUri'),
      })),
    );
  }
  return Promise.all(probes);
}

const PROBE_TIMEOUT_MS = 3_000;

/**
 * The local broker must answer a metadata request, not just take the connection. A cloud bootstrap speaks TLS and
 * SASL, whose credentials live in the state file: there, accepting connections is what can be checked up front.
 */
async function kafkaAnswers(
  hostPort: string,
  target: 'cloud' | 'local',
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  const reachable = await tcpReachable(hostPort, timeoutMs, signal);
  if (!reachable.ok || target === 'cloud') return reachable;
  const { kafkaHealth } = await import('../kafka/health.js');
  const health = await kafkaHealth(hostPort, { timeoutMs, signal });
  return health.healthy ? { ok: true, detail: `${hostPort} answers` } : { ok: false, detail: health.status };
}

/** MongoDB must answer `hello`, not just take the connection. */
async function mongoAnswers(
  uri: string,
  hostPort: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  const reachable = await tcpReachable(hostPort, timeoutMs, signal);
  if (!reachable.ok) return reachable;
  const { mongoAnswers: hello } = await import('../mongo/client.js');
  const health = await hello(uri, { timeoutMs, signal });
  return health.healthy
    ? { ok: true, detail: `${hostPort} answers` }
    : { ok: false, detail: `${hostPort}: ${health.status}` };
}
