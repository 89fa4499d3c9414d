import type { Context } from '../core/context.js';
import { OperationError, UserError } from '../core/errors.js';
import { requireStackHome } from '../local/home.js';
import { oneOf, positiveInteger } from '../core/parse.js';
import { defineCommand, flag, option } from './command.js';
import type { InstallResult } from '../local/install.js';
import type { ServiceStatus, ServiceStop, StartResult } from '../local/stack.js';

// Service modules (kafkajs, mongodb) load only when a subcommand runs.
const stack = () => import('../local/stack.js');

const SERVICE_NAMES = [
  'kafka',
  'ferretdb',
  'connect',
  'ksqldb',
  'flink-jobmanager',
  'flink-taskmanager',
  'flink-gateway',
] as const;
type ServiceArg = (typeof SERVICE_NAMES)[number];
/** What `stop` and `logs` accept: a service, or a group standing for all of its services. */
const GROUP_MEMBERS: Record<string, ServiceArg[]> = {
  flink: ['flink-jobmanager', 'flink-taskmanager', 'flink-gateway'],
};
const BASE_SERVICES: ServiceArg[] = ['kafka', 'ferretdb', 'connect', 'ksqldb'];

const HOME_OPTION = {
  home: option('--home <dir>', 'where the stack keeps jars, binaries, data and logs', {
    configKey: 'home',
    defaultNote: '~/.cache/marketplace',
  }),
};

const WITH_OPTION = {
  with: option('--with <group>', 'also the optional part named: flink (JobManager, TaskManager, SQL Gateway)', {
    parse: oneOf('--with', ['flink'] as const),
    defaultNote: 'flink when the engine setting is flink',
  }),
};

async function settingsOf(ctx: Context) {
  const { settingsFromConfig } = await stack();
  const loaded = await ctx.loadConfig();
  return settingsFromConfig(loaded.values, ctx.env);
}

/** Optional groups for this run: --with, and flink whenever the configured engine is Flink. */
async function groupsOf(ctx: Context, chosen: 'flink' | undefined): Promise<'flink'[]> {
  const loaded = await ctx.loadConfig();
  return chosen === 'flink' || loaded.values.engine === 'flink' ? ['flink'] : [];
}

/** The generated PLAIN passwords may appear in logs or configs: mask them in everything we print. */
async function registerStackSecrets(ctx: Context, home: string): Promise<void> {
  const { readKafkaUsers } = await stack();
  const users = await readKafkaUsers(home).catch(() => []);
  for (const user of users) ctx.secrets.addCredentialPair(user.username, user.password);
}

export interface LocalStopResult {
  home: string;
  services: ServiceStop[];
}

export interface LocalStatusResult {
  home: string;
  services: ServiceStatus[];
}

export interface LocalResetResult {
  home: string;
  stopped: ServiceStop[];
  removed: string[];
}

const installCommand = defineCommand({
  name: 'install',
  summary: 'Fetch Kafka and Connect jars, build FerretDB, make the TLS certificate and Kafka users (idempotent)',
  description:
    'Resolves Kafka 3.9 broker and Connect jars and the MongoDB Kafka connector with Maven, builds FerretDB from ' +
    'local/ferretdb with Go, and creates a CA, a broker certificate and SASL/PLAIN users under the home directory. ' +
    'With --with flink (or engine flink) it also resolves Apache Flink 2.2 and its Kafka connector from Maven ' +
    'Central (about 135 MiB). Each part is made again only when its inputs change. Needs java, mvn, go and openssl ' +
    'on PATH.',
  options: {
    ...HOME_OPTION,
    ...WITH_OPTION,
    force: flag('--force', 'make every part again, even when it is up to date'),
  },
  examples: [
    { command: 'marketplace local install', description: 'install into ~/.cache/marketplace' },
    { command: 'marketplace local install --with flink', description: 'the Flink jars too' },
    { command: 'MARKETPLACE_HOME=/tmp/mp marketplace local install', description: 'install somewhere else' },
  ],
  run: async (ctx, { options }): Promise<InstallResult> => {
    const settings = await settingsOf(ctx);
    const { installStack } = await import('../local/install.js');
    return installStack({
      home: settings.home,
      groups: await groupsOf(ctx, options.with),
      env: ctx.env,
      force: options.force,
      onProgress: (message) => ctx.out.info(`… ${message}`),
    });
  },
  render: (result, ctx) => {
    if (!result.changed) {
      ctx.out.success(
        `Local stack already installed in ${result.home}; nothing to do (${result.seconds.toFixed(1)} s).`,
      );
      return;
    }
    for (const step of result.steps) {
      ctx.out.info(
        `  ${step.name.padEnd(12)} ${step.action === 'cached' ? 'up to date' : `installed in ${step.seconds.toFixed(1)} s`}`,
      );
    }
    ctx.out.success(`Local stack installed in ${result.home} (${result.seconds.toFixed(1)} s).`);
  },
});

const startCommand = defineCommand({
  name: 'start',
  summary: 'Start Kafka, Kafka Connect, FerretDB and the ksqlDB dev server (no-op when already healthy)',
  description:
    'Starts each service as a background process that keeps running after this command exits, and waits until ' +
    'it is healthy. Services already running and healthy are left alone. With --with flink (or engine flink) it ' +
    'also starts a Flink session cluster (JobManager, TaskManager, SQL Gateway) and resubmits the Flink jobs it ran ' +
    'before, each from its last savepoint or checkpoint. If a service does not become healthy in time, everything ' +
    'this command started is stopped again and the last 20 lines of its log are shown.',
  options: { ...HOME_OPTION, ...WITH_OPTION },
  examples: [
    { command: 'marketplace local start', description: 'start the stack on the configured ports' },
    { command: 'marketplace local start --with flink', description: 'with Apache Flink too' },
    { command: 'marketplace local start --json', description: 'start, and print endpoints as JSON' },
  ],
  run: async (ctx, { options }): Promise<StartResult> => {
    const settings = await settingsOf(ctx);
    const groups = await groupsOf(ctx, options.with);
    const { startStack, ServiceStartError } = await stack();
    await registerStackSecrets(ctx, settings.home);
    try {
      return await startStack({
        settings,
        groups,
        env: ctx.env,
        signal: ctx.signal,
        clock: ctx.clock,
        onEvent: (event) => {
          if (event.kind === 'starting') ctx.out.info(`… starting ${event.service}`);
          if (event.kind === 'skipped') ctx.out.warn(`${event.service} skipped: ${event.reason}`);
          if (event.kind === 'restarting')
            ctx.out.warn(`${event.service} is running but not healthy (${event.status}); restarting it`);
          if (event.kind === 'waiting') ctx.out.debug(`  ${event.service}: ${event.status}`);
        },
      });
    } catch (error) {
      if (error instanceof ServiceStartError) {
        ctx.out.info(`Last ${error.logTail.length} lines of ${error.logFile}:`);
        for (const line of error.logTail) ctx.out.info(`  ${line}`);
      }
      throw error;
    }
  },
  render: (result, ctx) => {
    const { dim } = ctx.out.paint;
    ctx.out.table(
      ['SERVICE', 'STATE', 'SECONDS', 'ENDPOINTS'],
      result.services.map((s) => [
        s.name,
        s.action,
        s.action === 'skipped' ? '-' : s.seconds.toFixed(1),
        s.action === 'skipped'
          ? dim(s.notice ?? '')
          : Object.entries(s.endpoints)
              .map(([k, v]) => `${k} ${v}`)
              .join('  '),
      ]),
    );
    for (const s of result.services) if (s.action !== 'skipped' && s.notice) ctx.out.info(`${s.name}: ${s.notice}`);
    const fresh = result.services.some((s) => s.action === 'started');
    ctx.out.success(
      fresh
        ? `Local stack healthy in ${result.seconds.toFixed(1)} s.`
        : `Local stack already running (${result.seconds.toFixed(1)} s).`,
    );
  },
});

const stopCommand = defineCommand({
  name: 'stop',
  summary: 'Stop the services `local start` started (only those; checked by command line)',
  args: [
    {
      name: 'service',
      description: `stop only this one: ${SERVICE_NAMES.join(', ')}, or flink for all three (default: all)`,
    },
  ],
  options: HOME_OPTION,
  examples: [
    { command: 'marketplace local stop', description: 'stop the local stack' },
    { command: 'marketplace local stop ksqldb && marketplace local start', description: 'restart one service' },
    { command: 'marketplace local stop flink', description: 'stop Flink (its jobs stop with a savepoint first)' },
  ],
  run: async (ctx, { args }): Promise<LocalStopResult> => {
    const chosen = args[0] === undefined ? undefined : serviceArg('stop', args[0]);
    const settings = await settingsOf(ctx);
    await requireStackHome(settings.home);
    return (await stack()).stopStack({ home: settings.home, ...(chosen ? { only: chosen } : {}) });
  },
  render: (result, ctx) => {
    const width = Math.max(10, ...result.services.map((s) => s.name.length));
    for (const s of result.services) {
      ctx.out.info(`  ${s.name.padEnd(width)} ${s.action}${s.pid ? ` (pid ${s.pid})` : ''}`);
      if (s.notice) ctx.out.info(`  ${''.padEnd(width)} ${s.notice}`);
    }
    if (result.services.every((s) => s.action === 'not-running')) {
      ctx.out.success(`Nothing to stop: no service of the local stack in ${result.home} was running.`);
      return;
    }
    const stopped = result.services.filter((s) => s.action !== 'not-running');
    ctx.out.success(
      result.services.length === 1 ? `${result.services[0]!.name} stopped.` : `Stopped ${stopped.length} services.`,
    );
  },
});

const statusCommand = defineCommand({
  name: 'status',
  summary: 'Show each service: pid, health, endpoints',
  options: { ...HOME_OPTION, ...WITH_OPTION },
  examples: [
    { command: 'marketplace local status', description: 'a table of the services' },
    { command: 'marketplace local status --json', description: '{"services":[{"name","pid","healthy","endpoints"}]}' },
  ],
  run: async (ctx, { options }): Promise<LocalStatusResult> => {
    const settings = await settingsOf(ctx);
    return (await stack()).stackStatus({ settings, groups: await groupsOf(ctx, options.with) });
  },
  render: (result, ctx) => {
    const { green, red, dim } = ctx.out.paint;
    ctx.out.table(
      ['SERVICE', 'PID', 'HEALTH', 'ENDPOINTS'],
      result.services.map((s) => [
        s.name,
        s.pid === null ? '-' : String(s.pid),
        s.healthy ? green('healthy') : s.pid === null ? dim('stopped') : red(`unhealthy: ${s.status ?? ''}`),
        Object.entries(s.endpoints)
          .map(([k, v]) => `${k} ${v}`)
          .join('  '),
      ]),
    );
  },
});

const resetCommand = defineCommand({
  name: 'reset',
  summary: 'Stop the stack and wipe its data and logs (installed jars, binaries and users are kept)',
  options: { ...HOME_OPTION, yes: flag('--yes', 'do not ask for confirmation') },
  examples: [
    { command: 'marketplace local reset --yes', description: 'wipe all local topics, connectors and documents' },
  ],
  run: async (ctx, { options }): Promise<LocalResetResult> => {
    const settings = await settingsOf(ctx);
    await requireStackHome(settings.home);
    if (!options.yes && !ctx.globals.yes) {
      const sure = await ctx.prompts.confirm({
        message: `Delete every topic, connector and document of the local stack in ${settings.home}?`,
        default: false,
      });
      if (!sure) throw new UserError('reset cancelled; nothing was changed');
    }
    return (await stack()).resetStack({ home: settings.home });
  },
  render: (result, ctx) => {
    ctx.out.success(
      `Local stack reset: data and logs under ${result.home} deleted. Start it with \`marketplace local start\`.`,
    );
  },
});

export interface LocalLogsResult {
  home: string;
  services: string[];
  /** With --json: the lines that would have been printed, each with its service prefix. */
  lines: string[];
}

const logsCommand = defineCommand({
  name: 'logs',
  summary: 'Print (or follow) the log of one service, or of all of them',
  args: [{ name: 'service', description: `one of ${SERVICE_NAMES.join(', ')}, or flink (default: all)` }],
  options: {
    ...HOME_OPTION,
    lines: option('-n, --lines <n>', 'lines per service', { parse: positiveInteger('--lines'), default: '50' }),
    follow: flag('-f, --follow', 'keep printing new lines until Ctrl-C'),
  },
  examples: [
    { command: 'marketplace local logs kafka -n 100', description: 'the last 100 broker log lines' },
    { command: 'marketplace local logs connect --follow', description: 'follow the Connect worker' },
    { command: 'marketplace local logs flink-taskmanager', description: 'the TaskManager that runs the Flink jobs' },
  ],
  run: async (ctx, { args, options }): Promise<LocalLogsResult | undefined> => {
    const chosen = args[0] === undefined ? undefined : serviceArg('logs', args[0]);
    const settings = await settingsOf(ctx);
    await requireStackHome(settings.home);
    await registerStackSecrets(ctx, settings.home);
    const json = ctx.globals.json;
    if (json && options.follow) {
      throw new UserError('--follow streams lines until Ctrl-C and cannot be one JSON document (--json)', {
        hint: 'Drop --follow to get the last lines as JSON, or drop --json to follow.',
      });
    }
    const services = chosen ?? (await loggedServices(settings.home));
    const collected: string[] = [];
    const { printLogs } = await import('../local/logs.js');
    const what = args[0] ?? 'any service';
    const noLines = `no log lines of ${what} in ${settings.home}: the stack has not run since its install or reset`;
    const printed = await printLogs({
      home: settings.home,
      services,
      lines: options.lines,
      follow: options.follow,
      write: (text) => (json ? collected.push(...text.replace(/\n$/, '').split('\n')) : ctx.out.data(text)),
      onNothingYet: () => ctx.out.info(`${noLines}; waiting for new lines (Ctrl-C stops).`),
      signal: ctx.signal,
      clock: ctx.clock,
    });
    if (printed === 0 && !options.follow) {
      throw new OperationError(noLines, {
        hint: 'Start it with `marketplace local start`, or follow the logs with --follow.',
      });
    }
    return json ? { home: settings.home, services, lines: collected } : undefined;
  },
});

export const localCommand = defineCommand<void>({
  name: 'local',
  summary: 'Install, start, stop and inspect the local stack (Kafka, Connect + MongoDB sink, FerretDB, ksqlDB)',
  description:
    'The local stack runs real servers as background processes on 127.0.0.1: Kafka 3.9 in KRaft mode (PLAINTEXT ' +
    'and a Confluent-Cloud-like SASL_SSL/PLAIN listener), Kafka Connect with the MongoDB sink connector, FerretDB ' +
    '(MongoDB wire protocol over SQLite) and the ksqlDB dev server. Commands run with --target local use it.',
  examples: [
    { command: 'marketplace local install && marketplace local start', description: 'first run on a new machine' },
    { command: 'marketplace local status --json', description: 'endpoints and health as JSON' },
  ],
  subcommands: [installCommand, startCommand, stopCommand, statusCommand, resetCommand, logsCommand],
});

/** A service or group name given to `local <command>`; a typo names the closest one in a runnable example. */
function serviceArg(command: 'stop' | 'logs', value: string): ServiceArg[] {
  const choices = [...SERVICE_NAMES, ...Object.keys(GROUP_MEMBERS)];
  const name = oneOf('service', choices, (service) => `marketplace local ${command} ${service}`)(value);
  return GROUP_MEMBERS[name] ?? [name as ServiceArg];
}

/** All services' logs: the optional ones only when they have a log (they have run in this home). */
async function loggedServices(home: string): Promise<ServiceArg[]> {
  const { logFileOf } = await stack();
  const { access } = await import('node:fs/promises');
  const present = await Promise.all(
    SERVICE_NAMES.map(async (name) =>
      BASE_SERVICES.includes(name) ||
      (await access(logFileOf(home, name)).then(
        () => true,
        () => false,
      ))
        ? name
        : undefined,
    ),
  );
  return present.filter((name) => name !== undefined);
}
