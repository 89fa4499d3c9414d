import type { ResourceRecord } from '../core/state-store.js';
import type { Clock } from '../core/waiter.js';

/** What a read-only lookup found: the resource as it is now, whether it is usable, and what differs from desired. */
export interface Observed {
  record: ResourceRecord;
  ready: boolean;
  /** Human descriptions of settings that differ from the configuration and can be updated in place. */
  changes?: string[];
}

export interface ProvisionEnvBase {
  /** Records known so far: from the state file, or found by name during this run. */
  known(id: string): ResourceRecord | undefined;
  progress(id: string, status: string): void;
  /** The command's Ctrl-C and clock: every wait of every step takes them. */
  signal: AbortSignal;
  clock: Clock;
  /** During a teardown: the resources that stay (e.g. the environment with --keep-environment). */
  kept?: ReadonlySet<string>;
}

/**
 * One node of the demo's resource graph. `observe` never mutates anything (plan relies on that); `create` returns as
 * soon as the API has accepted the create, so its id reaches the state file before any waiting.
 */
export interface ResourceDef<E extends ProvisionEnvBase = ProvisionEnvBase> {
  id: string;
  kind: string;
  title: string;
  dependsOn: string[];
  /**
   * The service makes it along with what it depends on (an environment's Schema Registry): `create` only waits for
   * it to appear, and finding it unrecorded is its creation, not an adoption.
   */
  implicit?: boolean;
  observe(env: E): Promise<Observed | undefined>;
  create(env: E): Promise<ResourceRecord>;
  /** Waits until the resource is usable; may return the record with more attributes (endpoints). */
  ready?(env: E, record: ResourceRecord): Promise<ResourceRecord>;
  update?(env: E, observed: Observed): Promise<ResourceRecord>;
  /** Deletes it; a resource that is already gone counts as deleted. */
  destroy(env: E, record: ResourceRecord): Promise<void>;
}

export function requireKnown(env: ProvisionEnvBase, id: string): ResourceRecord {
  const record = env.known(id);
  if (!record) throw new Error(`provisioning graph bug: ${id} is needed before it exists`);
  return record;
}
