import type { ConfigKey } from './config-schema.js';
import type { LoadConfigChoices, LoadedConfig } from './config.js';
import type { Output } from './output.js';
import type { Prompter } from './prompts.js';
import type { SecretRegistry } from './redact.js';
import type { Clock } from './waiter.js';

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
  config?: string;
  target?: 'cloud' | 'local';
  color: boolean;
  yes: boolean;
}

/** What a command handler may touch. Nothing global: tests build one of these by hand. */
export interface Context {
  out: Output;
  secrets: SecretRegistry;
  prompts: Prompter;
  env: NodeJS.ProcessEnv;
  /** Where row data goes (tail, lineage --format mermaid); a terminal or a pipe. */
  stdout: NodeJS.WriteStream;
  cwd: string;
  globals: GlobalOptions;
  /** Aborted on Ctrl-C / SIGTERM (its reason an InterruptedError); long-running commands watch it and clean up. */
  signal: AbortSignal;
  /** The one clock every wait and the producer's pacing use (MARKETPLACE_WAIT_SCALE shortens its pauses). */
  clock: Clock;
  /** Loads and validates configuration, with these flag values taking precedence over everything else. */
  loadConfig(flags?: Partial<Record<ConfigKey, unknown>>, options?: LoadConfigChoices): Promise<LoadedConfig>;
}
