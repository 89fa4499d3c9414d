import { acquireLock, type HeldLock } from '../core/lock.js';
import type { ResourceRecord, StateStore } from '../core/state-store.js';
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
  /** After a teardown: what still carries the prefix or belongs to what was deleted (should be nothing). */
  remaining(options: { keepEnvironment: boolean; deleted: ResourceRecord[] }): Promise<string[]>;
  release(): Promise<void>;
}

/**
 * Takes the state directory's lock for `command`, telling the user when a dead process's lock is taken over, and
 * checks that the state file can be written: a command that changes resources must not start on a full disk.
 */
export async function lockStateDir(
  out: { warn(message: string): void },
  store: StateStore,
  command: string | undefined,
): Promise<HeldLock | undefined> {
  if (!command) return undefined;
  const lock = await acquireLock(store.dir, command, (previous) =>
    out.warn(
      `taking over the lock of ${previous ? `pid ${previous.pid}, which is no longer running` : 'an unreadable lock file'}`,
    ),
  );
  try {
    await store.assertWritable();
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}
