import { oneOf } from '../core/parse.js';
import { ENGINE_NAMES } from '../engines/engine.js';
import { option } from './command.js';

/** --engine, for the commands whose work differs by stream processor; it overrides the `engine` setting. */
export const ENGINE_OPTION = {
  engine: option('--engine <engine>', 'stream processor on the local target: ksqldb or flink', {
    parse: oneOf('--engine', ENGINE_NAMES),
    configKey: 'engine',
    defaultNote: 'the engine setting, else ksqldb',
  }),
};
