import { ExitCode, UserError } from '../core/errors.js';
import { DEFAULT_DASHBOARD_PORT } from '../dashboard/defaults.js';
import { defineCommand, flag, option } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export interface DashboardResult {
  url: string;
  target: 'cloud' | 'local';
  prefix: string;
  engine: string;
  /** job_status rows that reached the page while it ran. */
  rows: number;
  interrupted: boolean;
}

export const dashboardCommand = defineCommand({
  name: 'dashboard',
  summary: 'Serve a live page of the demo: job decisions, trucks on a map, the data flow and health',
  description:
    'Starts a small HTTP server (127.0.0.1 by default) with one page that updates live: ACCEPTED/REJECTED counts ' +
    'and rate with the latest job_status rows, job sites and trucks on a map (with distance and ETA from ' +
    "truck_tracker), the data flow with each topic's rate and each query's and connector's state, and health: end " +
    'offsets, consumer lag, MongoDB documents against job_status records, and a banner while a component is down. ' +
    'The topics are read from their end offsets with read_committed; the map needs no internet access. Prints the ' +
    'URL and opens it in a browser when run from a terminal (--no-open to skip); Ctrl-C stops it (exit 130).',
  options: {
    port: option('--port <n>', 'port to listen on (0 picks a free one)', {
      parse: portNumber,
      default: String(DEFAULT_DASHBOARD_PORT),
    }),
    host: option('--host <address>', 'address to listen on', { parse: hostAddress, default: '127.0.0.1' }),
    open: flag('--no-open', 'do not open a browser'),
    ...ENGINE_OPTION,
    tiles: option(
      '--tiles <url>',
      'optional map tiles under the offline basemap, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      { parse: tileTemplate },
    ),
  },
  examples: [
    { command: 'marketplace dashboard --target local', description: 'the local demo in the browser' },
    { command: 'marketplace dashboard --port 0 --no-open', description: 'any free port; print the URL only' },
    { command: 'marketplace dashboard --target local --engine flink', description: 'the demo running on Flink' },
  ],
  run: async (ctx, { options }): Promise<DashboardResult> => {
    const loaded = await ctx.loadConfig();
    const { openDashboard, untilInterrupted } = await import('../dashboard/run.js');
    const dashboard = await openDashboard(ctx, loaded, options);
    try {
      ctx.out.info('Ctrl-C stops it.');
      await Promise.race([untilInterrupted(ctx.signal), dashboard.failed]);
    } finally {
      await dashboard.close();
    }
    return {
      url: dashboard.url,
      target: dashboard.target,
      prefix: dashboard.prefix,
      engine: dashboard.engine,
      rows: dashboard.rows(),
      interrupted: ctx.signal.aborted,
    };
  },
  render: (result, ctx) => ctx.out.info(`Dashboard stopped after ${result.rows} job_status rows.`),
  exitCode: (result) => (result.interrupted ? ExitCode.interrupted : ExitCode.ok),
});

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65_535) {
    throw new UserError(`--port must be a port number from 0 to 65535; got "${value}"`, {
      hint: `Example: --port ${DEFAULT_DASHBOARD_PORT} (or --port 0 for any free port)`,
    });
  }
  return n;
}

function hostAddress(value: string): string {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value)) {
    throw new UserError(`--host must be a host name or IP address; got "${value}"`, {
      hint: 'Example: --host 127.0.0.1 (or --host 0.0.0.0 to be reachable from other machines)',
    });
  }
  return value;
}

function tileTemplate(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value.replace(/\{[xyz]\}/g, '0'));
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || !['{x}', '{y}', '{z}'].every((p) => value.includes(p))) {
    throw new UserError(`--tiles must be an http(s) URL with {z}, {x} and {y} in it; got "${value}"`, {
      hint: 'Example: --tiles https://tile.openstreetmap.org/{z}/{x}/{y}.png',
    });
  }
  return value;
}
