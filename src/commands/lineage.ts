import type { Context } from '../core/context.js';
import { oneOf } from '../core/parse.js';
import type { ConnectorFacts, LineageGraph } from '../lineage/graph.js';
import { defineCommand, option } from './command.js';
import { ENGINE_OPTION } from './engine-option.js';

export interface LineageResult extends LineageGraph {
  notes: string[];
}

export const lineageCommand = defineCommand({
  name: 'lineage',
  summary: "Draw the demo's data flow from live metadata (tree, Mermaid, or --json)",
  description:
    'Asks ksqlDB for its streams, tables and queries (LIST, DESCRIBE EXTENDED) and Connect for its connectors, and ' +
    "draws producers → topics → streams/tables → queries → output topics → sink connector with each query's and " +
    "connector's status. Anything created by hand shows up too. With --engine flink the queries are the Flink jobs " +
    "that run (their tables read from each job's plan), each with its state.",
  options: {
    format: option('--format <format>', 'tree or mermaid (printed to stdout)', {
      parse: oneOf('--format', ['tree', 'mermaid'] as const),
      default: 'tree',
    }),
    ...ENGINE_OPTION,
  },
  examples: [
    { command: 'marketplace lineage', description: 'the flow as a tree' },
    { command: 'marketplace lineage --format mermaid > flow.mmd', description: 'a Mermaid flowchart' },
    { command: 'marketplace lineage --json', description: 'the graph as JSON' },
    { command: 'marketplace lineage --target local --engine flink', description: 'the Flink jobs and their tables' },
  ],
  run: async (ctx, { options }): Promise<LineageResult> => {
    const result = await collect(ctx);
    if (!ctx.globals.json) {
      const { toMermaid, toTree } = await import('../lineage/graph.js');
      const { green, red } = ctx.out.paint;
      ctx.out.data(
        options.format === 'mermaid'
          ? toMermaid(result)
          : toTree(result, { status: (text, ok) => (ok ? green(text) : red(text)) }),
      );
    }
    return result;
  },
  render: (result, ctx) => {
    for (const note of result.notes) ctx.out.warn(note);
  },
});

async function collect(ctx: Context): Promise<LineageResult> {
  const loaded = await ctx.loadConfig();
  const { openEngine } = await import('../engines/index.js');
  const { buildLineage } = await import('../lineage/graph.js');
  const engine = await openEngine({ loaded, secrets: ctx.secrets, env: ctx.env });
  const notes: string[] = [];
  try {
    const { sources, queries } = await engine.lineage();
    const connectors = await connectorFacts(ctx, loaded).catch((error: Error) => {
      notes.push(`connectors not shown: ${error.message.split('\n')[0]}`);
      return [];
    });
    return { ...buildLineage(sources, queries, connectors), notes };
  } finally {
    await engine.close();
  }
}

/** Sink connectors from Connect (local) or connect/v1 (cloud, when the Cloud API key is available). */
async function connectorFacts(
  ctx: Context,
  loaded: Awaited<ReturnType<Context['loadConfig']>>,
): Promise<ConnectorFacts[]> {
  const config = loaded.values;
  if (config.target === 'local' || config.connectUrl) {
    const { configuredEndpoints } = await import('../core/endpoints.js');
    const { ConnectClient } = await import('../connect/client.js');
    const connect = new ConnectClient(configuredEndpoints(config).connectUrl!);
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
