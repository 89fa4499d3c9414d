import type { ResourceRecord, StateDocument, StateStore } from '../core/state-store.js';

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

  put(id: string, record: ResourceRecord): Promise<void> {
    return this.enqueue((doc) => {
      doc.resources[id] = record;
    });
  }

  remove(id: string): Promise<void> {
    return this.enqueue((doc) => {
      delete doc.resources[id];
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
