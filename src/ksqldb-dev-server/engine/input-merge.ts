import type { DecodedRecord } from './plan.js';

/** One fetched record of an input partition, decoded (or undefined when ksqlDB would skip it). */
export interface MergeRecord {
  offset: number;
  timestamp: number;
  decoded: DecodedRecord | undefined;
  /** The task it went to (-1: none, a record the join drops before its tasks); set when it is routed. */
  task?: number;
  /** Processed: a partition's position passes a record only once it and every record before it are. */
  done?: boolean;
}

/** A FIFO of records that frees its consumed head now and then. */
class RecordQueue {
  private items: MergeRecord[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): MergeRecord | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  at(index: number): MergeRecord | undefined {
    return this.items[this.head + index];
  }

  push(record: MergeRecord): void {
    this.items.push(record);
  }

  shift(): MergeRecord {
    const record = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as MergeRecord;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return record;
  }
}

/** An input partition of a query, as the merge sees it. */
export class InputPartition {
  readonly key: string;
  /** Records fetched and not processed yet, in offset order; `routed` of them have gone to their tasks (or are held). */
  private readonly queue = new RecordQueue();
  private routed = 0;
  /** Records past the cut that wait for the end of the rebuild to go to their tasks. */
  held: MergeRecord[] = [];
  /** Next offset to fetch: one past the last record (or transaction marker) seen. */
  fetched: number;
  /**
   * Where the readable part of the partition ends, as last known: its last stable offset (a query reads committed
   * records only). A batch reports the high watermark, which an open transaction may keep ahead of that; a probe of
   * the last stable offset corrects it (see `lagging`).
   */
  end: number;
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
    end: number,
    /**
     * For a partition whose records are spread over a join's tasks, each task's own progress when the cut was
     * committed: the task had also processed its records from the cut up to there (tasks take a partition's records in
     * different orders), which rebuild state only too.
     */
    readonly doneBefore?: readonly number[],
  ) {
    this.key = `${topic}:${partition}`;
    this.fetched = start;
    this.position = start;
    this.limit = Math.max(cut, ...(doneBefore ?? []));
    this.end = end;
  }

  /** Records fetched and not processed yet. */
  get buffered(): number {
    return this.queue.size;
  }

  push(record: MergeRecord): void {
    this.queue.push(record);
  }

  /** Whether every record up to the current goal (the rebuild cut, or the readable end) has been fetched. */
  get caughtUp(): boolean {
    return this.fetched >= Math.min(this.end, this.limit);
  }

  /** Whether the record (routed already) had been processed before the restart: it rebuilds state only. */
  replays(record: MergeRecord): boolean {
    if (record.offset < this.cut) return true;
    const done = record.task !== undefined && record.task >= 0 ? this.doneBefore?.[record.task] : undefined;
    return done !== undefined && record.offset < done;
  }

  /** Hands the records not routed yet, up to the limit, to `route`. */
  routeNew(route: (record: MergeRecord) => void): void {
    for (let next = this.queue.at(this.routed); next !== undefined && next.offset < this.limit; ) {
      this.routed++;
      route(next);
      next = this.queue.at(this.routed);
    }
  }

  /** Drops the processed records from the head and moves the position up to the first one left. */
  settle(): void {
    while (this.queue.peek()?.done) {
      this.queue.shift();
      this.routed--;
    }
    this.position = this.queue.peek()?.offset ?? this.fetched;
  }
}

/** The records of one input partition that go to one task, in offset order. */
interface Lane {
  partition: InputPartition;
  queue: RecordQueue;
  /** One past the last offset the task has processed of this partition. */
  done: number;
}

interface Task {
  lanes: Lane[];
  /** When the task began waiting for an empty, caught-up partition (max.task.idle.ms above 0). */
  idleSince: number | undefined;
}

export interface MergeOptions {
  /**
   * Order each task's records by timestamp (a join): each step takes the buffered head with the smallest timestamp
   * among the task's input partitions, as a Kafka Streams task does. Without it (one input) records go on in the
   * order they came.
   */
  ordered: boolean;
  /**
   * ksqlDB's `max.task.idle.ms`. 0 (the default): wait for an empty partition only while it has readable data that is
   * not fetched yet. Above 0: also wait that long for an empty partition that is caught up. Below 0: never wait.
   */
  idleMs: number;
  /** The join's tasks (one partition number of its co-partitioned inputs each); 1 by default. */
  tasks?: number;
  /**
   * Whether an input's records are spread over the tasks by their join key (a side ksqlDB repartitions): each of its
   * partitions then feeds every task. Otherwise partition p feeds task p.
   */
  spread?: (input: number) => boolean;
  /** The task a record of a spread input goes to, or -1 when it goes to none (a null join key, a null value). */
  route?: (partition: InputPartition, record: MergeRecord) => number;
  now?: () => number;
}

/**
 * The order in which a query processes its input partitions' records, task by task, as Kafka Streams would. Records
 * arrive in fetched batches per partition and go to the task they belong to: a partition's own (partition p feeds task
 * p), or for a side that is repartitioned by its join key, the task the key hashes to. Each task takes its buffered
 * records in timestamp order and waits for an empty partition that still has readable data; tasks do not wait for
 * each other. While state is rebuilt after a restart, records from each partition's cut on are held until every
 * partition has replayed up to its cut.
 */
export class InputMerge {
  private readonly partitions: InputPartition[] = [];
  private readonly tasks: Task[];
  private readonly lanes = new Map<InputPartition, Lane[]>();
  private readonly now: () => number;
  private readonly waitingOn = new Set<InputPartition>();
  private released = false;
  private firstTask = 0;
  rebuilding = false;

  constructor(private readonly options: MergeOptions) {
    this.now = options.now ?? Date.now;
    const count = Math.max(1, options.tasks ?? 1);
    this.tasks = Array.from({ length: count }, () => ({ lanes: [], idleSince: undefined }));
  }

  add(partition: InputPartition): void {
    this.partitions.push(partition);
    if (partition.cut > partition.fetched) this.rebuilding = true;
    const spread = this.tasks.length > 1 && (this.options.spread?.(partition.input) ?? false);
    const tasks = spread ? this.tasks : [this.tasks[partition.partition % this.tasks.length]!];
    const lanes = tasks.map((task, index) => {
      const lane = { partition, queue: new RecordQueue(), done: partition.doneBefore?.[index] ?? partition.cut };
      task.lanes.push(lane);
      return lane;
    });
    this.lanes.set(partition, lanes);
  }

  all(): readonly InputPartition[] {
    return this.partitions;
  }

  /**
   * Partitions some task waited for at the end of the last drain because they have readable data not fetched yet, as
   * far as the merge knows: their `end` may be the high watermark of a partition an open transaction holds back.
   */
  lagging(): ReadonlySet<InputPartition> {
    return this.waitingOn;
  }

  /**
   * Per task, the offset below which every record of a spread partition going to that task has been processed
   * (undefined for a partition that feeds one task: its position says it all). Committed with the position, it tells
   * a restart which records past the position were processed already.
   */
  progress(partition: InputPartition): number[] | undefined {
    const lanes = this.lanes.get(partition)!;
    if (lanes.length === 1) return undefined;
    return lanes.map((lane) => Math.max(lane.done, partition.position));
  }

  /**
   * Processes every record that may go now, in order, while `more()` holds; returns how long to wait before a task's
   * waiting may end (for `max.task.idle.ms` above 0), or undefined.
   */
  drain(
    process: (partition: InputPartition, record: MergeRecord) => void,
    more: () => boolean = () => true,
  ): number | undefined {
    let wait: number | undefined;
    for (let progress = true; progress; ) {
      progress = false;
      wait = undefined;
      this.waitingOn.clear();
      for (const partition of this.partitions) this.route(partition, process);
      for (let i = 0; i < this.tasks.length; i++) {
        const index = (this.firstTask + i) % this.tasks.length;
        const task = this.tasks[index]!;
        for (;;) {
          if (!more()) {
            // Next time, the tasks not reached now go first.
            this.firstTask = index;
            return undefined;
          }
          const next = this.next(task);
          if (typeof next === 'number') {
            if (next > 0) wait = wait === undefined ? next : Math.min(wait, next);
            break;
          }
          if (next === undefined) break;
          const record = next.queue.shift();
          record.done = true;
          if (record.offset >= next.done) next.done = record.offset + 1;
          process(next.partition, record);
          next.partition.settle();
          progress = true;
        }
      }
      if (this.release()) progress = true;
    }
    return wait;
  }

  /**
   * Once every partition has replayed what it had processed before the restart (or none had to), the records held
   * back may go on.
   */
  private release(): boolean {
    if (this.released) return false;
    if (this.rebuilding) {
      if (!this.partitions.every((p) => p.caughtUp)) return false;
      for (const task of this.tasks) if (task.lanes.some((lane) => lane.queue.size > 0)) return false;
    }
    this.rebuilding = false;
    this.released = true;
    for (const p of this.partitions) p.limit = Number.POSITIVE_INFINITY;
    return true;
  }

  private route(partition: InputPartition, process: (partition: InputPartition, record: MergeRecord) => void): void {
    const lanes = this.lanes.get(partition)!;
    const toLane = (record: MergeRecord) => (lanes.length === 1 ? lanes[0]! : lanes[record.task!]!).queue.push(record);
    if (this.released && partition.held.length > 0) {
      for (const record of partition.held) toLane(record);
      partition.held = [];
    }
    partition.routeNew((record) => {
      const task = lanes.length === 1 ? 0 : (this.options.route?.(partition, record) ?? 0);
      if (task < 0) {
        // Dropped before any task (as ksqlDB drops it before the repartition topic): it orders nothing.
        record.task = -1;
        record.done = true;
        process(partition, record);
        partition.settle();
        return;
      }
      record.task = lanes.length === 1 ? partition.partition % this.tasks.length : task % lanes.length;
      // While state is rebuilt, only what was processed before the restart goes on.
      if (!this.released && !partition.replays(record)) partition.held.push(record);
      else toLane(record);
    });
  }

  /**
   * The lane whose head the task takes next; or, when the task must wait, how long until waiting ends (0: until data
   * arrives); undefined when it has nothing to do.
   */
  private next(task: Task): Lane | number | undefined {
    if (!this.options.ordered) {
      task.idleSince = undefined;
      return task.lanes.find((lane) => lane.queue.size > 0);
    }
    let best: Lane | undefined;
    let bestTime = 0;
    let lagging = false;
    let idle = false;
    for (const lane of task.lanes) {
      const head = lane.queue.peek();
      if (head === undefined) {
        if (this.options.idleMs < 0) continue;
        const p = lane.partition;
        // Readable data not fetched yet: wait for it, however long (Kafka Streams waits while the lag is above 0).
        if (!p.caughtUp) {
          lagging = true;
          this.waitingOn.add(p);
        }
        // max.task.idle.ms above 0 waits for a caught-up partition too (not while rebuilding: nothing more comes).
        else if (this.options.idleMs > 0 && !this.rebuilding) idle = true;
        continue;
      }
      if (best === undefined || head.timestamp < bestTime) {
        best = lane;
        bestTime = head.timestamp;
      }
    }
    if (best === undefined) return undefined;
    if (lagging) {
      task.idleSince = undefined;
      return 0;
    }
    if (idle) {
      const waited = this.now() - (task.idleSince ??= this.now());
      if (waited < this.options.idleMs) return this.options.idleMs - waited;
      return best;
    }
    task.idleSince = undefined;
    return best;
  }
}
