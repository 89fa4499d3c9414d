import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { ENGINE_WORDS, type StreamEngine } from '../engines/engine.js';
import type { LineageGraph } from '../lineage/graph.js';

/**
 * All the dashboard asks of the stream-processing engine: its name, and the data flow with the state of each query
 * or job. Rows are read from the topics the engine writes, so they need nothing engine-specific. It comes from the
 * engine interface (src/engines), so the page shows whichever engine runs the demo.
 */
export interface EngineView {
  /** As the page shows it, and the name of its health component: "ksqlDB", "Apache Flink". */
  readonly name: string;
  /** What the engine calls what it runs, for the health line: "query", "job". */
  readonly jobNoun: string;
  /** The flow as the engine and Connect describe it; throws when the engine cannot be reached. */
  lineage(): Promise<LineageReading>;
  close(): Promise<void>;
}

export interface LineageReading {
  graph: LineageGraph;
  /** Why connectors are missing from the graph, when they are; `fixable` when the user must act (credentials). */
  connectorsProblem?: { message: string; fixable: boolean };
}

/**
 * The configured engine (`--engine`, the `engine` setting), held open while the dashboard runs. It is opened at the
 * first reading, not before: one that cannot be opened yet (no ksqlDB recorded before `up` on the cloud target) is a
 * component shown as down, asked again next round.
 */
export function engineView(ctx: Context, loaded: LoadedConfig): EngineView {
  // The flow is read one round at a time, so there is never a second open in flight.
  let held: StreamEngine | undefined;
  const engine = async () => {
    const { openEngine } = await import('../engines/index.js');
    held ??= await openEngine({ loaded, ctx });
    return held;
  };
  const words = ENGINE_WORDS[loaded.values.engine];
  return {
    name: words.label,
    // The engine's own word once it is open: Confluent Cloud's Flink runs statements, not jobs.
    get jobNoun() {
      return held?.jobNoun ?? words.jobNoun;
    },
    lineage: async () => {
      const { collectLineage } = await import('../lineage/collect.js');
      let connectorsProblem: LineageReading['connectorsProblem'];
      const result = await collectLineage(ctx, loaded, {
        engine: await engine(),
        onConnectorsError: (error) => {
          const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
          connectorsProblem = { message, fixable: error instanceof UserError };
        },
      });
      return { graph: { nodes: result.nodes, edges: result.edges }, connectorsProblem };
    },
    close: async () => {
      await held?.close();
      held = undefined;
    },
  };
}
