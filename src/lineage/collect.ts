import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { isClassifiedError } from '../core/errors.js';
import type { ConnectorFacts, LineageGraph, QueryFacts, SourceFacts } from './graph.js';

export interface LineageResult extends LineageGraph {
  notes: string[];
}

/**
 * The data flow as ksqlDB (LIST, DESCRIBE EXTENDED) and Connect describe it right now. Connectors that cannot be
 * listed become a note rather than a failure: the ksqlDB part of the graph is still worth showing.
 */
export async function collectLineage(
  ctx: Context,
  loaded: LoadedConfig,
  options: { onConnectorsError?(error: unknown): void } = {},
): Promise<LineageResult> {
  const { KsqlClient } = await import('../ksql-client/client.js');
  const { ksqlClientOptions, resolveKsqlTarget } = await import('../ksql-client/target.js');
  const { buildLineage } = await import('./graph.js');
  const target = await resolveKsqlTarget(loaded);
  const client = new KsqlClient(ksqlClientOptions(target, ctx, loaded));
  const notes: string[] = [];
  try {
    const listed = [...(await client.listStreams()), ...(await client.listTables())];
    const sources: SourceFacts[] = [];
    for (const source of listed) {
      const description = await client.describeSource(source.name);
      sources.push({
        name: source.name,
        type: source.type,
        topic: source.topic,
        readQueries: description.readQueries.map((q) => q.id),
        writeQueries: description.writeQueries.map((q) => q.id),
      });
    }
    const queries: QueryFacts[] = (await client.listQueries()).map((q) => ({
      id: q.id,
      state: q.state ?? Object.keys(q.statusCount ?? {})[0] ?? 'UNKNOWN',
      sinks: q.sinks,
      sinkTopics: q.sinkKafkaTopics,
    }));
    const connectors = await connectorFacts(ctx, loaded).catch((error: unknown) => {
      if (!isClassifiedError(error)) throw error;
      options.onConnectorsError?.(error);
      notes.push(`connectors not shown: ${error.message.split('\n')[0]}`);
      return [];
    });
    return { ...buildLineage(sources, queries, connectors), notes };
  } finally {
    client.close();
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
