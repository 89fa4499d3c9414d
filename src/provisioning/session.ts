import type { StateStore } from '../core/state-store.js';
import type { KnownRecords } from './engine.js';
import type { ProvisionEnvBase, ResourceDef } from './resource.js';
import type { StateRecorder } from './state-recorder.js';

/** One target's resource graph with everything needed to plan, apply or destroy it. */
export interface ProvisionSession<E extends ProvisionEnvBase = ProvisionEnvBase> {
  target: 'cloud' | 'local';
  /** For headlines: "Confluent Cloud (prefix demo)". */
  label: string;
  defs: ResourceDef<E>[];
  env: E;
  known: KnownRecords;
  recorder: StateRecorder;
  store: StateStore;
  sink: boolean;
  /** Endpoints worth showing after `up` (no secrets). */
  endpoints(): Record<string, string | undefined>;
  /** After a teardown: what still carries the prefix (should be nothing). */
  remaining(options: { keepEnvironment: boolean }): Promise<string[]>;
  release(): Promise<void>;
}
