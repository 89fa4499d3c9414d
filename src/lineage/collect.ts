import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { isClassifiedError } from '../core/errors.js';
import type { StreamEngine } from '../engines/engine.js';
import type { ConnectorFacts, LineageGraph } from './graph.js';

export interface LineageResult extends LineageGraph {
  notes: string[];
}

/**
 * The data flow as the engine (ksqlDB: LIST, DESCRIBE EXTENDED; Flink: the running jobs and their plans) and Connect
 * describe it right now. Connectors that cannot be listed become a note rather than a failure: the engine's part of
 * the graph is still worth showing.
 */
export async function collectLineage(
  ctx: Context,
  loaded: LoadedConfig,
  options: {
    onConnectorsError?(error: unknown): void;
    /** An engine the caller holds open (and closes); else the configured one, opened for this call. */
    engine?: StreamEngine;
  } = {},
): Promise<LineageResult> {
  const { openEngine } = await import('../engines/index.js');
  const { buildLineage } = await import('./graph.js');
  const engine = options.engine ?? (await openEngine({ loaded, ctx }));
  const notes: string[] = [];
  try {
    const { sources, queries } = await engine.lineage();
    const connectors = await connectorFacts(ctx, loaded).catch((error: unknown) => {
      if (!isClassifiedError(error)) throw error;
      options.onConnectorsError?.(error);
      notes.push(`connectors not shown: ${error.message.split('\n')[0]}`);
      return [];
    });
    return { ...buildLineage(sources, queries, connectors), notes };
  } finally {
    if (!options.engine) await engine.close();
  }
}

/** Sink connectors from Connect (local) or connect/v1 (cloud, when the Cloud API key is available). */
async function connectorFacts(ctx: Context, loaded: LoadedConfig): Promise<ConnectorFacts[]> {
  const config = loaded.values;
  if (config.target === 'local' || config.connectUrl) {
    const { configuredEndpoints } = await import('../core/endpoints.js');
    const { ConnectClient } = await import('../connect/client.js');
    const connect = new ConnectClient(configuredEndpoints(config).connectUrl!, {
      timeoutMs: config.requestTimeout,
      signal: ctx.signal,
      clock: ctx.clock,
    });
    const facts: ConnectorFacts[] = [];
    for (const name of await connect.connectors()) {
      const settings = (await connect.config(name)) ?? {};
      const status = await connect.status(name);
      facts.push({
        name,
        state: status?.connector.state ?? 'UNKNOWN',
        topics: (settings['topics'] ?? '').split(',').filter(Boolean),
        destination: `mongodb ${settings['database'] ?? '?'}.${settings['collection'] ?? '?'}`,
      });
    }
    return facts;
  }
  const { openCloudSession } = await import('../provisioning/cloud-session.js');
  const session = await openCloudSession(ctx, loaded, { lock: undefined, needMongoPassword: false });
  try {
    const environment = session.known.get('environment');
    const cluster = session.known.get('kafka-cluster');
    if (!environment || !cluster) return [];
    const connectors = session.cloud.connectors(environment.id, cluster.id);
    const facts: ConnectorFacts[] = [];
    for (const name of await connectors.list()) {
      const connector = await connectors.get(name);
      const status = await connectors.status(name);
      facts.push({
        name,
        state: status.connector.state,
        topics: (connector.config['topics'] ?? '').split(',').filter(Boolean),
        destination: `mongodb ${connector.config['database'] ?? '?'}.${connector.config['collection'] ?? '?'}`,
      });
    }
    return facts;
  } finally {
    await session.release();
  }
}
