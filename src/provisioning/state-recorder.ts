import type { ResourceRecord, StateDocument, StateStore } from '../core/state-store.js';

/**
 * A create that was started: written before the request, so a run whose answer was lost can tell the object it made
 * from same-named ones (display names are not unique on Confluent Cloud): those listed here were there before.
 */
export interface CreateIntent {
  displayName: string;
  existingIds: string[];
}

const INTENT_KIND = 'create-intent';
const intentKey = (id: string) => `creating:${id}`;

/**
 * The provisioning graph's view of the state file. Nodes run in parallel, so every write goes through one queue:
 * each change is a read-modify-write of the whole file, done one at a time, and the moment a create returns its id
 * is on disk.
 */
export class StateRecorder {
  private queue: Promise<unknown> = Promise.resolve();
  private snapshot: StateDocument;

  constructor(
    private readonly store: StateStore,
    initial: StateDocument,
  ) {
    this.snapshot = initial;
  }

  get(id: string): ResourceRecord | undefined {
    return this.snapshot.resources[id];
  }

  all(): Record<string, ResourceRecord> {
    return { ...this.snapshot.resources };
  }

  /** Records (and so resolves any intent to create) a resource. */
  put(id: string, record: ResourceRecord): Promise<void> {
    return this.enqueue((doc) => {
      doc.resources[id] = record;
      delete doc.resources[intentKey(id)];
    });
  }

  /** Forgets a resource, and any intent to create it. */
  remove(id: string): Promise<void> {
    return this.enqueue((doc) => {
      delete doc.resources[id];
      delete doc.resources[intentKey(id)];
    });
  }

  intent(id: string): CreateIntent | undefined {
    const record = this.snapshot.resources[intentKey(id)];
    if (record?.kind !== INTENT_KIND) return undefined;
    const existing = record.attributes?.['existingIds'];
    return {
      displayName: record.id,
      existingIds: Array.isArray(existing) ? existing.filter((item): item is string => typeof item === 'string') : [],
    };
  }

  /** Written before the create request is sent (the target is cloud: only Confluent Cloud names are not unique). */
  intend(id: string, intent: CreateIntent): Promise<void> {
    return this.enqueue((doc) => {
      doc.resources[intentKey(id)] = {
        kind: INTENT_KIND,
        id: intent.displayName,
        name: id,
        target: 'cloud',
        createdAt: new Date().toISOString(),
        attributes: { existingIds: intent.existingIds },
      };
    });
  }

  private enqueue(change: (doc: StateDocument) => void): Promise<void> {
    const next = this.queue.then(async () => {
      this.snapshot = await this.store.update(change);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
