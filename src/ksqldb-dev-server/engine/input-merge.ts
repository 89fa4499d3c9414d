import type { DecodedRecord } from './plan.js';

/** One fetched record of an input partition, decoded (or undefined when ksqlDB would skip it). */
export interface MergeRecord {
  offset: number;
  timestamp: number;
  decoded: DecodedRecord | undefined;
}

/** An input partition of a query, as the merge sees it. */
export class InputPartition {
  readonly key: string;
  private readonly queue: MergeRecord[] = [];
  private head = 0;
  /** Next offset to fetch: one past the last record (or transaction marker) seen. */
  fetched: number;
  /** The broker's end of the partition, as last reported. */
  highWatermark: number;
  /** Next offset to commit: everything before it has been processed. */
  position: number;
  /** Records from here on only follow once every partition has rebuilt its state (Infinity once they have). */
  limit: number;

  constructor(
    readonly input: number,
    readonly topic: string,
    readonly partition: number,
    /** Where consumption starts (a replay starts before `cut`). */
    start: number,
    /** Records before this offset were processed before a restart: they rebuild state only. */
    readonly cut: number,
    highWatermark: number,
  ) {
    this.key = `${topic}:${partition}`;
    this.fetched = start;
    this.position = start;
    this.limit = cut;
    this.highWatermark = highWatermark;
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  peek(): MergeRecord | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }

  push(record: MergeRecord): void {
    this.queue.push(record);
  }

  shift(): MergeRecord {
    const record = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as MergeRecord;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return record;
  }

  /** Whether every record up to the current goal (the rebuild cut, or the broker's end) has been fetched. */
  get caughtUp(): boolean {
    return this.fetched >= Math.min(this.highWatermark, this.limit);
  }

  /** The next record may be taken now: it is not held back until the rebuild ends. */
  get ready(): boolean {
    const next = this.peek();
    return next !== undefined && next.offset < this.limit;
  }
}

export interface MergeOptions {
  /**
   * Order records across partitions by timestamp (a join): each step takes the buffered head with the smallest
   * timestamp, as a Kafka Streams task does. Without it (one input) records go on in the order they came.
   */
  ordered: boolean;
  /**
   * ksqlDB's `max.task.idle.ms`. 0 (the default): wait for an empty partition only while the broker has data for it
   * that is not fetched yet. Above 0: also wait that long for an empty partition that is caught up. Below 0: never
   * wait.
   */
  idleMs: number;
  now?: () => number;
}

/**
 * The order in which a query processes its input partitions' records. Records arrive in fetched batches per
 * partition; `drain` hands them on as far as Kafka Streams would: in timestamp order across partitions, waiting for a
 * partition with nothing buffered but more on the broker. While state is rebuilt after a restart, records from each
 * partition's cut on are held until every partition has replayed up to its cut.
 */
export class InputMerge {
  private readonly partitions: InputPartition[] = [];
  private readonly now: () => number;
  private blockedSince: number | undefined;
  private released = false;
  rebuilding: boolean;

  constructor(private readonly options: MergeOptions) {
    this.now = options.now ?? Date.now;
    this.rebuilding = false;
  }

  add(partition: InputPartition): void {
    this.partitions.push(partition);
    if (partition.cut > partition.fetched) this.rebuilding = true;
  }

  all(): readonly InputPartition[] {
    return this.partitions;
  }

  /**
   * Processes every record that may go now, in order, while `more()` holds; returns how long to wait before waiting
   * may end (for `max.task.idle.ms` above 0), or undefined.
   */
  drain(
    process: (partition: InputPartition, record: MergeRecord) => void,
    more: () => boolean = () => true,
  ): number | undefined {
    while (more()) {
      if (!this.released && (!this.rebuilding || this.partitions.every((p) => p.caughtUp && !p.ready))) {
        // Every partition replayed up to its cut (or none had to): the records held back may go on.
        this.rebuilding = false;
        this.released = true;
        for (const p of this.partitions) p.limit = Number.POSITIVE_INFINITY;
      }
      const next = this.options.ordered ? this.earliest() : this.anyReady();
      if (next === 'wait') {
        const waited = this.now() - (this.blockedSince ??= this.now());
        if (this.options.idleMs <= 0) return undefined;
        if (waited < this.options.idleMs) return this.options.idleMs - waited;
        const forced = this.earliest(true);
        if (forced === undefined || forced === 'wait') return undefined;
        process(forced, forced.shift());
        continue;
      }
      this.blockedSince = undefined;
      if (next === undefined) return undefined;
      process(next, next.shift());
    }
    return undefined;
  }

  /** The partition whose head is earliest, 'wait' when an empty partition must be waited for, or undefined. */
  private earliest(ignoreEmpty = false): InputPartition | 'wait' | undefined {
    let best: InputPartition | undefined;
    let bestTime = 0;
    for (const p of this.partitions) {
      if (!p.ready) {
        if (ignoreEmpty || this.options.idleMs < 0) continue;
        // Held records (past the cut) wait for the rebuild, not for this partition.
        if (p.peek() !== undefined) continue;
        // max.task.idle.ms above 0 waits for a caught-up partition too (not while rebuilding: nothing more comes).
        if (!p.caughtUp || (this.options.idleMs > 0 && !this.rebuilding)) return 'wait';
        continue;
      }
      const time = p.peek()!.timestamp;
      if (best === undefined || time < bestTime) {
        best = p;
        bestTime = time;
      }
    }
    return best;
  }

  private anyReady(): InputPartition | 'wait' | undefined {
    for (const p of this.partitions) if (p.ready) return p;
    return undefined;
  }
}
