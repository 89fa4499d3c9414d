import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { LineageGraph } from '../lineage/graph.js';

/**
 * All the dashboard asks of the stream-processing engine: its name, and the data flow with each query's state.
 * Rows are read from the topics the engine writes, so they need nothing engine-specific; another engine plugs in
 * here and nowhere else.
 */
export interface EngineView {
  /** As the page shows it, and the name of its health component. */
  readonly name: string;
  /** The flow as the engine and Connect describe it; throws when the engine cannot be reached. */
  lineage(): Promise<LineageReading>;
}

export interface LineageReading {
  graph: LineageGraph;
  /** Why connectors are missing from the graph, when they are; `fixable` when the user must act (credentials). */
  connectorsProblem?: { message: string; fixable: boolean };
}

export function engineView(ctx: Context, loaded: LoadedConfig): EngineView {
  return {
    name: loaded.values.engine === 'flink' ? 'Apache Flink' : 'ksqlDB',
    lineage: async () => {
      const { collectLineage } = await import('../lineage/collect.js');
      let connectorsProblem: LineageReading['connectorsProblem'];
      const result = await collectLineage(ctx, loaded, {
        onConnectorsError: (error) => {
          const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
          connectorsProblem = { message, fixable: error instanceof UserError };
        },
      });
      return { graph: { nodes: result.nodes, edges: result.edges }, connectorsProblem };
    },
  };
}
