import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { configuredEndpoints } from '../core/endpoints.js';
import { UserError } from '../core/errors.js';
import { StateStore, type ResourceRecord, type StateDocument } from '../core/state-store.js';
import type { BasicAuth, KsqlClientOptions } from './client.js';

export interface KsqlTarget {
  url: string;
  auth?: BasicAuth;
  /** Where the URL came from, for messages. */
  source: string;
  /** Shown when the endpoint cannot be reached. */
  unreachableHint: string;
}

/** The state record `up` writes for the ksqlDB API key (shape owned by provisioning; this is the one reader). */
export const KSQLDB_API_KEY_KIND = 'ksqldb-api-key';

/**
 * Which ksqlDB to talk to, and with which key: config `ksqldbUrl` wins; the local target falls back to the local
 * stack's dev server; the cloud target uses the endpoint and ksqlDB API key recorded in state by `up`.
 */
export async function resolveKsqlTarget(
  loaded: LoadedConfig,
  readState?: () => Promise<StateDocument>,
): Promise<KsqlTarget> {
  const config = loaded.values;
  const local = config.target === 'local';
  const localHint = 'Start the local stack with `marketplace local start` (check it with `marketplace local status`).';
  if (config.ksqldbUrl !== undefined) {
    const record = local ? undefined : findKeyRecord(await (readState ?? defaultReader(loaded))());
    return {
      url: config.ksqldbUrl,
      auth: record ? authFrom(record) : undefined,
      source: 'ksqldbUrl in the configuration',
      unreachableHint: local ? localHint : 'Check that ksqlDB is running and that ksqldbUrl is right.',
    };
  }
  if (local) {
    return { url: configuredEndpoints(config).ksqldbUrl!, source: 'the local stack', unreachableHint: localHint };
  }
  const record = findKeyRecord(await (readState ?? defaultReader(loaded))());
  const endpoint = record?.attributes?.endpoint;
  if (!record || typeof endpoint !== 'string' || endpoint === '' || !record.secrets?.secret) {
    throw new UserError('no ksqlDB endpoint and API key for the cloud target in .marketplace/state.json', {
      hint: 'Run `marketplace up` to provision the ksqlDB cluster and its API key, or set ksqldbUrl (and use --target local for the local stack).',
    });
  }
  return {
    url: endpoint,
    auth: authFrom(record),
    source: 'the ksqlDB cluster recorded in .marketplace/state.json',
    unreachableHint: 'Check your network connection, and that the ksqlDB cluster still exists (`marketplace status`).',
  };
}

/**
 * A command's client for the target: the command's Ctrl-C and clock, and requestTimeout from the configuration as
 * how long ksqlDB may take to answer one request.
 */
export function ksqlClientOptions(
  target: KsqlTarget,
  ctx: Pick<Context, 'secrets' | 'signal' | 'clock'>,
  loaded: LoadedConfig,
): KsqlClientOptions {
  return {
    url: target.url,
    auth: target.auth,
    unreachableHint: target.unreachableHint,
    secrets: ctx.secrets,
    signal: ctx.signal,
    clock: ctx.clock,
    requestTimeoutMs: loaded.values.requestTimeout,
  };
}

function defaultReader(loaded: LoadedConfig): () => Promise<StateDocument> {
  return () => new StateStore(loaded.dir).read();
}

function findKeyRecord(state: StateDocument): ResourceRecord | undefined {
  return Object.values(state.resources).find((record) => record.kind === KSQLDB_API_KEY_KIND);
}

function authFrom(record: ResourceRecord): BasicAuth | undefined {
  const secret = record.secrets?.secret;
  if (!secret) return undefined;
  const username = typeof record.attributes?.key === 'string' ? record.attributes.key : record.id;
  return { username, password: secret, source: `the ksqlDB API key ${username} in .marketplace/state.json` };
}
