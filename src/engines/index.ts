import type { LoadedConfig } from '../core/config.js';
import type { EngineContext, EngineName, StreamEngine } from './engine.js';

export type {
  ApplyOutcome,
  EngineContext,
  EngineJob,
  EngineName,
  OpenedSource,
  PipelineState,
  StreamEngine,
  TailRequest,
} from './engine.js';
export { ENGINE_NAMES } from './engine.js';

/**
 * The engine a command works with: `name`, or the configured one. Each implementation loads only when chosen, so a
 * command on ksqlDB never loads the Flink client, nor the reverse.
 */
export async function openEngine(options: {
  loaded: LoadedConfig;
  ctx: EngineContext;
  name?: EngineName;
}): Promise<StreamEngine> {
  const name = options.name ?? options.loaded.values.engine;
  if (name === 'flink') {
    if (options.loaded.values.target === 'cloud') {
      const { confluentFlinkEngine } = await import('./confluent-flink/index.js');
      return confluentFlinkEngine(options);
    }
    const { flinkEngine } = await import('./flink/index.js');
    return flinkEngine(options);
  }
  const { ksqldbEngine } = await import('./ksqldb.js');
  return ksqldbEngine(options);
}
