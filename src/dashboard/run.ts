import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { engineView } from './engine-view.js';
import { startFeed } from './feed.js';
import { DashboardModel } from './model.js';
import { startServer } from './server.js';

export interface DashboardOptions {
  host: string;
  port: number;
  /** Open the page in the default browser (only when a person is at a terminal). */
  open: boolean;
  tiles?: string;
}

export interface OpenedDashboard {
  url: string;
  target: 'cloud' | 'local';
  prefix: string;
  engine: string;
  /** Rejects when the dashboard fails for a reason that is a bug, not a component being down. */
  failed: Promise<never>;
  /** job_status rows shown since the dashboard started. */
  rows(): number;
  close(): Promise<void>;
}

/** Starts following the demo, serves the page, and says where it is. */
export async function openDashboard(
  ctx: Context,
  loaded: LoadedConfig,
  options: DashboardOptions,
): Promise<OpenedDashboard> {
  const { target, prefix } = loaded.values;
  const engine = engineView(ctx, loaded);
  const model = new DashboardModel({
    target,
    prefix,
    engine: engine.name,
    since: Date.now(),
    area: await generatedArea(),
    ...(options.tiles ? { tiles: options.tiles } : {}),
  });
  const { resourceNames } = await import('../provisioning/names.js');
  let feed: Awaited<ReturnType<typeof startFeed>> | undefined;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    feed = await startFeed({ ctx, loaded, model, engine, sinkConnector: resourceNames(prefix).sinkConnector });
    server = await startServer({
      host: options.host,
      port: options.port,
      model,
      redact: (text) => ctx.secrets.redactKnown(text),
    });
  } catch (error) {
    await feed?.stop();
    await engine.close();
    throw error;
  }
  const running = feed;
  if (!['127.0.0.1', 'localhost', '::1'].includes(options.host)) {
    ctx.out.warn(`the dashboard listens on ${options.host} without a password: anyone who can reach it sees the demo`);
  }
  ctx.out.info(`Dashboard of the ${target} demo (prefix ${prefix}, engine ${engine.name}) at ${server.url}`);
  if (options.open && ctx.out.interactive) await openBrowser(ctx, server.url);
  return {
    url: server.url,
    target,
    prefix,
    engine: engine.name,
    failed: running.failed,
    rows: () => model.liveRows(),
    close: async () => {
      await server.close();
      await running.stop();
      await engine.close();
    },
  };
}

/** The box around every city the generators place jobs in, so the map starts where the places will be. */
async function generatedArea(): Promise<[number, number, number, number]> {
  const { CITIES } = await import('../producers/places.js');
  const degrees = (km: number) => km / 111;
  return [
    Math.min(...CITIES.map((c) => c.long - degrees(c.radiusKm))),
    Math.min(...CITIES.map((c) => c.lat - degrees(c.radiusKm))),
    Math.max(...CITIES.map((c) => c.long + degrees(c.radiusKm))),
    Math.max(...CITIES.map((c) => c.lat + degrees(c.radiusKm))),
  ];
}

async function openBrowser(ctx: Context, url: string): Promise<void> {
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    child.on('error', (error) => ctx.out.warn(`could not open a browser (${error.message}); open ${url} yourself`));
  } catch (error) {
    ctx.out.warn(`could not open a browser (${(error as Error).message}); open ${url} yourself`);
  }
}

/** Resolves when Ctrl-C (or SIGTERM) arrives. */
export function untilInterrupted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
