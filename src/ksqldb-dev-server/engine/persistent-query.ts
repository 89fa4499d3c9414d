import type { Consumer, KafkaMessage as Message, Producer } from 'kafkajs';
import {
  DeserializationError,
  jsonValueDecoder,
  jsonValueEncoder,
  serializeKafkaKey,
  deserializeKafkaKey,
} from './serde.js';
import { InputMerge, InputPartition } from './input-merge.js';
import {
  newConsumer,
  newTransactionalProducer,
  readTopicToEnd,
  seekOnFirstJoin,
  topicOffsets,
  type KafkaHandles,
  type PartitionOffset,
} from './kafka.js';
import type { DecodedRecord, PlanInput, Processor, QueryPlan, ResultRow } from './plan.js';
import type { DataSource } from './source.js';
import { waitFor } from '../../core/waiter.js';
import { retryWhileNotReady } from '../../kafka/topics.js';

/** How long a query's start waits for coordinators and leaders of a seconds-old broker. */
const COORDINATOR_TIMEOUT_MS = 60_000;
/** A query start is tried this often (a topic created a moment ago may have no partition leader yet)… */
const START_ATTEMPTS = 6;
/** …each attempt bounded by its own waits (the coordinators'), so this only stops a start that hangs. */
const START_TIMEOUT_MS = START_ATTEMPTS * (COORDINATOR_TIMEOUT_MS + 30_000);

export type QueryState = 'RUNNING' | 'ERROR' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING';

export interface QueryLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Why a query stopped, as ksqlDB's QueryError reports it (EXPLAIN <query>, `queryErrors`). */
export interface QueryError {
  timestamp: number;
  errorMessage: string;
  type: 'USER' | 'SYSTEM' | 'UNKNOWN';
}

interface OutputMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
}

/** The next offset to consume of one input partition, as committed with the output it led to. */
interface InputPosition {
  topic: string;
  partition: number;
  offset: number;
  /** For a partition spread over a join's tasks, how far each task had got (InputMerge.progress). */
  done?: number[];
}

/**
 * kafkajs retries CONCURRENT_TRANSACTIONS (the previous transaction still completing) for sends but not for the
 * AddOffsetsToTxn of sendOffsets, which is the first request of an offsets-only transaction.
 */
async function withConcurrentTransactionRetry(attempt: () => Promise<void>): Promise<void> {
  let concurrent: unknown;
  let failure: unknown;
  try {
    await waitFor(
      async () => {
        try {
          await attempt();
          return { done: true, value: undefined };
        } catch (error) {
          if ((error as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS') throw (failure = error);
          concurrent = error;
          return { done: false, status: 'the previous transaction is still completing' };
        }
      },
      { what: 'the previous transaction to complete', timeoutMs: 5_000, initialDelayMs: 5, factor: 2, maxDelayMs: 100 },
    );
  } catch (error) {
    // Past the deadline the broker's own answer says more than a timeout.
    if (concurrent !== undefined && error !== failure) throw concurrent;
    throw error;
  }
}

/** Output records per send: kafkajs groups a send's records by partition in time quadratic in their number. */
const SEND_CHUNK = 1_000;
/** Output held for the next transaction beyond which consumption waits for the running one to finish. */
const MAX_PENDING_OUTPUT = 20_000;
/**
 * How long a task waits for a partition with data on the broker before asking whether the data is readable yet (two
 * fetches of an idle partition, at the consumer's maxWaitTimeInMs of 100).
 */
const LAG_PROBE_MS = 200;
/** Records buffered for one input partition beyond which fetching it waits (Kafka Streams' buffered.records). */
const MAX_BUFFERED = 20_000;

/** A record as its input's row, or undefined when ksqlDB's deserializer would skip it. */
function decode(spec: PlanInput, partition: number, message: Message): DecodedRecord | undefined {
  try {
    return spec.decode({
      key: message.key,
      value: message.value,
      timestamp: Number(message.timestamp),
      partition,
      offset: Number(message.offset),
    });
  } catch (error) {
    if (error instanceof DeserializationError) return undefined;
    throw error;
  }
}

/** What a query commits with each input offset (the offset's metadata). */
interface CommitMetadata {
  /** The largest stream time of the query's tasks. */
  streamTime?: number;
  /** Each task's stream time. */
  tasks?: number[];
  /** For a partition spread over a join's tasks, how far each task had got in it. */
  done?: number[];
}

function parseMetadata(metadata: string | null): CommitMetadata {
  if (!metadata) return {};
  try {
    const parsed = JSON.parse(metadata) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as CommitMetadata) : {};
  } catch {
    // Metadata written by someone else: nothing to restore.
    return {};
  }
}

/** Stream times committed with the input offsets: the largest, and each task's (empty before any commit). */
function savedStreamTimes(committed: { partitions: { offset: string; metadata: string | null }[] }[]): {
  streamTime: number;
  tasks: number[];
} {
  let streamTime = -1;
  let tasks: number[] = [];
  for (const topic of committed) {
    for (const p of topic.partitions) {
      if (Number(p.offset) < 0) continue;
      const meta = parseMetadata(p.metadata);
      if (typeof meta.streamTime === 'number') streamTime = Math.max(streamTime, meta.streamTime);
      // Partitions are committed when they move, so each holds the stream times of its own last commit; stream times
      // only grow, so the latest are the largest.
      if (!Array.isArray(meta.tasks)) continue;
      if (meta.tasks.length > tasks.length) tasks = [...meta.tasks];
      else if (meta.tasks.length === tasks.length) tasks = tasks.map((t, i) => Math.max(t, meta.tasks![i]!));
    }
  }
  return { streamTime, tasks };
}

export interface QuerySettings {
  /** ksqlDB's max.task.idle.ms for this query (its streamsProperties). */
  maxTaskIdleMs?: number;
}

export interface MaterializedRow {
  values: unknown[];
  timestamp: number;
}

/**
 * A CSAS/CTAS query: consumes its inputs with its own consumer group and writes results to the sink topic in
 * transactions that also commit the input offsets those results came from (ksqlDB's exactly_once_v2), so a restart,
 * even after a crash, neither loses nor repeats output for read_committed readers. Transactions run back to back:
 * each takes whatever was processed while the previous one was committing.
 */
export class PersistentQuery {
  state: QueryState = 'NOT_RUNNING';
  errorMessage?: string;
  /** Why the query stopped, newest last. */
  readonly queryErrors: QueryError[] = [];
  /** Current rows of a table sink by key, for pull queries. */
  readonly materialized = new Map<unknown, MaterializedRow>();
  readonly groupId: string;
  private consumer?: Consumer;
  /** Each query writes with its own producer, so dropping one sink topic cannot disturb the others. */
  private producer?: Producer;
  private processor?: Processor;
  private readonly outbox: ResultRow[] = [];
  private stopping = false;
  private failed = false;
  private readonly valueIndexes: number[];
  private readonly encodeValue: (values: unknown[]) => Buffer;
  /** Output and input positions processed since the running transaction took its share. */
  private pendingOutput: OutputMessage[] = [];
  private pendingPositions = new Map<string, InputPosition>();
  /** The transaction loop, while one runs. */
  private committing?: Promise<void>;
  private commitScheduled = false;
  /** Resolved whenever a transaction ends, for batches waiting on MAX_PENDING_OUTPUT. */
  private transactionEnded?: { promise: Promise<void>; resolve: () => void };
  private clearTimers: () => void = () => undefined;
  /** Processing that stopped for a transaction to take its output, resumed when one ends. */
  private afterTransaction: (() => void) | undefined;
  private readonly maxTaskIdleMs: number;
  processedRecords = 0;
  skippedRecords = 0;

  constructor(
    readonly id: string,
    readonly statementText: string,
    readonly plan: QueryPlan,
    readonly sink: DataSource,
    private readonly handles: KafkaHandles,
    serviceGroupPrefix: string,
    private readonly offsetReset: 'earliest' | 'latest',
    private readonly logger: QueryLogger,
    settings: QuerySettings = {},
  ) {
    this.groupId = `${serviceGroupPrefix}query_${id}`;
    this.maxTaskIdleMs = settings.maxTaskIdleMs ?? 0;
    this.valueIndexes = plan.columns.map((c, i) => (c.key ? -1 : i)).filter((i) => i >= 0);
    this.encodeValue = jsonValueEncoder(this.valueIndexes.map((i) => ({ ...plan.columns[i]!, key: false })));
  }

  get sourceNames(): string[] {
    return this.plan.inputs.map((i) => i.source.name);
  }

  /** Starts consuming; retried because a topic created a moment ago may not have a partition leader yet. */
  async start(): Promise<void> {
    let attempt = 0;
    let failure: unknown;
    try {
      await waitFor(
        async () => {
          attempt++;
          try {
            await this.startOnce();
            return { done: true, value: undefined };
          } catch (error) {
            await this.consumer?.disconnect().catch(() => undefined);
            this.consumer = undefined;
            failure = error;
            if (attempt >= START_ATTEMPTS) throw error;
            this.logger.warn(`${this.id}: start attempt ${attempt} failed (${(error as Error).message}); retrying`);
            return { done: false, status: (error as Error).message };
          }
        },
        { what: `query ${this.id} to start`, timeoutMs: START_TIMEOUT_MS, initialDelayMs: 500, maxDelayMs: 2_500 },
      );
    } catch (error) {
      const cause = failure ?? error;
      this.fail(`it could not start: ${(cause as Error).message}`);
      throw cause;
    }
  }

  private async startOnce(): Promise<void> {
    this.state = 'RUNNING';
    this.materialized.clear();
    this.outbox.length = 0;
    this.pendingOutput = [];
    this.pendingPositions = new Map();
    this.stopping = false;
    this.failed = false;
    const topics = [...new Set(this.plan.inputs.map((i) => i.source.topic))];
    if (topics.length !== this.plan.inputs.length)
      throw new Error('A query reading the same topic twice is not supported by the dev server');

    // The transactional producer comes first: initializing it fences a previous instance and completes whatever
    // transaction that one left, so the offsets read next are the ones that went with its last committed output.
    // On a seconds-old broker the transaction and group coordinators answer "not available" while their internal
    // topics are created and loaded: that is waited for, not a failed query.
    if (!this.producer) {
      this.producer = await retryWhileNotReady(
        async () => {
          const producer = newTransactionalProducer(this.handles.kafka, this.groupId);
          try {
            await producer.connect();
            await (await producer.transaction()).abort();
            return producer;
          } catch (error) {
            await producer.disconnect().catch(() => undefined);
            throw error;
          }
        },
        { what: `the transaction coordinator of ${this.groupId}`, timeoutMs: COORDINATOR_TIMEOUT_MS },
      );
    }

    // Where each input partition resumes, and how far back it must replay to rebuild join state.
    const committed = await retryWhileNotReady(
      () => this.handles.admin.fetchOffsets({ groupId: this.groupId, topics }),
      { what: `the group coordinator of ${this.groupId}`, timeoutMs: COORDINATOR_TIMEOUT_MS },
    );
    const resuming = committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
    const saved = savedStreamTimes(committed);
    const bounds = [];
    for (const spec of this.plan.inputs) bounds.push(await topicOffsets(this.handles.admin, spec.source.topic));
    const processor = this.plan.createProcessor((row) => this.outbox.push(row), {
      partitions: bounds.map((b) => b.length),
    });
    this.processor = processor;
    // A table's rows (and an aggregation's state) come back from its sink topic, but only for a query that ran before:
    // a new query must not pick up whatever an older one left in the topic.
    if (this.sink.type === 'TABLE' && resuming) await this.restoreFromSink(processor);

    const merge = new InputMerge({
      ordered: this.plan.inputs.length > 1,
      idleMs: this.maxTaskIdleMs,
      tasks: processor.tasks,
      spread: (input) => processor.spread(input),
      route: (partition, record) => (record.decoded ? processor.taskOf(partition.input, record.decoded) : -1),
    });
    const seeks: PartitionOffset[] = [];
    // Partitions this query has never committed: their start (per auto.offset.reset) is committed right away, so a
    // restart resumes there even if no record arrived in between.
    const initial: PartitionOffset[] = [];
    for (const [input, spec] of this.plan.inputs.entries()) {
      const topic = spec.source.topic;
      const commits = committed.find((c) => c.topic === topic)?.partitions ?? [];
      let replayFrom = new Map<number, number>();
      if (spec.replay === 'window' && saved.streamTime >= 0) {
        const since = Math.max(saved.streamTime - this.plan.windowRetentionMs, 0);
        const byTime = await retryWhileNotReady(() => this.handles.admin.fetchTopicOffsetsByTimestamp(topic, since), {
          what: `the leaders of topic ${topic} to answer`,
          timeoutMs: COORDINATOR_TIMEOUT_MS,
        });
        replayFrom = new Map(byTime.map((o) => [o.partition, Number(o.offset)]));
      }
      for (const bound of bounds[input]!) {
        const commit = commits.find((c) => c.partition === bound.partition);
        let cut = commit ? Number(commit.offset) : -1;
        let start: number;
        if (cut < 0) {
          cut = this.offsetReset === 'earliest' ? bound.low : bound.high;
          initial.push({ topic, partition: bound.partition, offset: cut });
          start = cut;
        } else {
          cut = Math.max(cut, bound.low);
          start = cut;
          if (spec.replay === 'all') start = bound.low;
          else if (spec.replay === 'window') {
            const byTime = replayFrom.get(bound.partition);
            if (byTime !== undefined && byTime >= 0) start = Math.min(Math.max(byTime, bound.low), cut);
          }
        }
        seeks.push({ topic, partition: bound.partition, offset: start });
        const done = commit ? parseMetadata(commit.metadata).done : undefined;
        const progress =
          Array.isArray(done) && done.length === processor.tasks && processor.spread(input) ? done : undefined;
        merge.add(new InputPartition(input, topic, bound.partition, start, cut, bound.high, progress));
      }
    }
    const rebuilding = merge.all().filter((p) => p.limit > p.fetched).length;
    if (rebuilding > 0) this.logger.info(`${this.id}: rebuilding state from ${rebuilding} input partition(s)`);
    else processor.advanceStreamTimes(saved.tasks);

    const consumer = newConsumer(this.handles, this.groupId);
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: this.offsetReset === 'earliest' });
    const byKey = new Map(merge.all().map((p) => [p.key, p]));

    // Partitions never committed before get their start committed in the first transaction, so a restart resumes
    // there even if no record arrived in between.
    for (const p of initial)
      this.pendingPositions.set(`${p.topic}:${p.partition}`, {
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
      });
    if (initial.length > 0) this.scheduleCommit();

    const paused = new Set<InputPartition>();
    // What each partition last queued for commit: its position, and for a spread partition each task's progress.
    const queued = new Map(merge.all().map((p) => [p, String(p.position)]));
    let idleTimer: NodeJS.Timeout | undefined;
    const probes = new Map<InputPartition, NodeJS.Timeout>();
    this.clearTimers = () => {
      clearTimeout(idleTimer);
      for (const probe of probes.values()) clearTimeout(probe);
      probes.clear();
    };
    /**
     * A task waits for a partition while it has readable data not fetched yet, but a batch reports the high
     * watermark, and a transaction left open on the partition holds the readable end (the last stable offset) below
     * it until the transaction ends. Kafka Streams measures the lag from the last stable offset, so it does not wait
     * for such a partition: a wait that outlasts a couple of fetches asks the broker where the readable end is.
     */
    const probe = (p: InputPartition): void => {
      if (probes.has(p)) return;
      const timer = setTimeout(() => {
        topicOffsets(this.handles.admin, p.topic)
          .then((offsets) => {
            const stable = offsets.find((o) => o.partition === p.partition)?.high;
            if (stable === undefined || probes.get(p) !== timer) return;
            probes.delete(p);
            if (stable <= p.fetched && p.end > p.fetched) {
              p.end = p.fetched;
              drain();
            }
          })
          .catch(() => probes.delete(p));
      }, LAG_PROBE_MS);
      probes.set(p, timer);
    };
    const drain = (): void => {
      if (this.failed || this.stopping) return;
      const wasRebuilding = merge.rebuilding;
      // Output comes in transactions of about MAX_PENDING_OUTPUT rows: once that much waits, processing goes on
      // after the running transaction (with a backlog, a single drain would otherwise make one huge transaction).
      const wait = merge.drain(
        (partition, record) => {
          if (record.decoded) {
            const emitting = !partition.replays(record);
            if (emitting) this.processedRecords++;
            processor.process(partition.input, record.decoded, emitting, record.task);
          } else this.skippedRecords++;
        },
        () => this.outbox.length + this.pendingOutput.length < MAX_PENDING_OUTPUT,
      );
      this.enqueueOutput(this.outbox.splice(0));
      if (wasRebuilding && !merge.rebuilding) processor.advanceStreamTimes(saved.tasks);
      for (const p of merge.lagging()) probe(p);
      for (const p of merge.all()) {
        // Also past transaction markers and aborted records, which reach no eachBatch.
        p.settle();
        // A position inside a replay range was committed before the restart already.
        const done = merge.progress(p);
        const mark = done ? `${p.position}:${done.join(',')}` : String(p.position);
        if (mark !== queued.get(p) && p.position >= p.cut) {
          queued.set(p, mark);
          this.pendingPositions.set(p.key, { topic: p.topic, partition: p.partition, offset: p.position, done });
        }
        // Fetching waits while a partition holds plenty, or while it has replayed to its cut and others have not.
        const hold = p.buffered > MAX_BUFFERED || (merge.rebuilding && p.fetched >= p.limit);
        const release = p.buffered < MAX_BUFFERED / 2 && !(merge.rebuilding && p.fetched >= p.limit);
        if (hold && !paused.has(p)) {
          paused.add(p);
          consumer.pause([{ topic: p.topic, partitions: [p.partition] }]);
        } else if (release && paused.has(p)) {
          paused.delete(p);
          consumer.resume([{ topic: p.topic, partitions: [p.partition] }]);
        }
      }
      clearTimeout(idleTimer);
      if (wait !== undefined) idleTimer = setTimeout(drain, wait);
      if (this.pendingOutput.length >= MAX_PENDING_OUTPUT) {
        this.afterTransaction = drain;
        void this.runCommitLoop();
      } else this.scheduleCommit();
    };
    // A batch of only transaction markers (or aborted records) reaches no eachBatch; the end of every batch does.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const partition = byKey.get(`${payload.topic}:${payload.partition}`);
      if (!partition) return;
      partition.end = Math.max(partition.end, Number(payload.highWatermark));
      const end = Number(payload.lastOffset) + 1;
      if (end > partition.fetched && partition.buffered === 0) {
        partition.fetched = end;
        drain();
      }
    });

    seekOnFirstJoin(consumer, seeks);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const partition = byKey.get(`${batch.topic}:${batch.partition}`);
        if (!partition || this.failed) return;
        const spec = this.plan.inputs[partition.input]!;
        for (const message of batch.messages) {
          if (this.stopping) break;
          const offset = Number(message.offset);
          // A rebalance may hand back records already buffered.
          if (offset >= partition.fetched) {
            partition.push({
              offset,
              timestamp: Number(message.timestamp),
              decoded: decode(spec, batch.partition, message),
            });
            partition.fetched = offset + 1;
          }
          resolveOffset(message.offset);
        }
        if (!this.stopping) partition.fetched = Math.max(partition.fetched, Number(batch.lastOffset()) + 1);
        partition.end = Math.max(partition.end, Number(batch.highWatermark));
        drain();
        if (this.pendingOutput.length >= MAX_PENDING_OUTPUT) {
          // Enough for a transaction: start one now rather than after this fetch, and wait while one is running.
          void this.runCommitLoop();
          while (this.pendingOutput.length >= MAX_PENDING_OUTPUT && this.committing && !this.failed)
            await this.nextTransactionEnd();
        }
        await heartbeat();
      },
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const error = (event.payload as { error?: Error }).error;
      if (!(event.payload as { restart?: boolean }).restart)
        this.fail(`reading its input failed: ${error?.message ?? 'unknown error'}`);
      else this.logger.warn(`${this.id}: consumer crashed, restarting: ${error?.message ?? 'unknown error'}`);
    });
  }

  /** Encodes result rows for the next transaction; a table sink's rows are updated for pull queries right away. */
  private enqueueOutput(rows: ResultRow[]): void {
    if (rows.length === 0) return;
    const keyColumn = this.plan.keyIndex >= 0 ? this.plan.columns[this.plan.keyIndex]! : undefined;
    const valueIndexes = this.valueIndexes;
    const encode = this.encodeValue;
    const table = this.sink.type === 'TABLE' && keyColumn !== undefined;
    for (const row of rows) {
      const keyValue = keyColumn ? row.values[this.plan.keyIndex] : undefined;
      if (table) {
        if (row.tombstone) this.materialized.delete(keyValue);
        else this.materialized.set(keyValue, { values: row.values, timestamp: row.timestamp });
      }
      this.pendingOutput.push({
        key: keyColumn ? serializeKafkaKey(keyColumn.type, keyValue) : null,
        value: row.tombstone ? null : encode(valueIndexes.map((i) => row.values[i])),
        timestamp: String(row.timestamp),
      });
    }
  }

  /** Starts the transaction loop once the batches of the current fetch have all been processed. */
  private scheduleCommit(): void {
    if (this.commitScheduled || this.committing || this.failed) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.runCommitLoop();
    });
  }

  /** The running transaction loop, or a new one; never two at once (a producer has one transaction at a time). */
  private runCommitLoop(): Promise<void> {
    this.committing ??= this.commitLoop().finally(() => {
      this.committing = undefined;
      this.resumeAfterTransaction();
    });
    return this.committing;
  }

  /** Goes on with processing that stopped for a transaction to take its output. */
  private resumeAfterTransaction(): void {
    const resume = this.afterTransaction;
    this.afterTransaction = undefined;
    if (resume) setImmediate(resume);
  }

  private nextTransactionEnd(): Promise<void> {
    if (!this.transactionEnded) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.transactionEnded = { promise, resolve };
    }
    return this.transactionEnded.promise;
  }

  /**
   * Commits what is pending, one transaction after another until nothing is: output first, then the input offsets
   * (with the stream time, for the join's state rebuild), then the commit. A failure aborts the transaction and
   * stops the query (state ERROR): its output is discarded and its offsets stay where the last commit left them.
   */
  private async commitLoop(): Promise<void> {
    const producer = this.producer!;
    while (!this.failed && (this.pendingOutput.length > 0 || this.pendingPositions.size > 0)) {
      const messages = this.pendingOutput;
      const positions = this.pendingPositions;
      this.pendingOutput = [];
      this.pendingPositions = new Map();
      const times: CommitMetadata = {
        streamTime: this.processor?.streamTime ?? -1,
        tasks: this.processor?.taskStreamTimes() ?? [],
      };
      let transaction: Awaited<ReturnType<typeof producer.transaction>> | undefined;
      try {
        transaction = await producer.transaction();
        for (let i = 0; i < messages.length; i += SEND_CHUNK) {
          await transaction.send({ topic: this.sink.topic, messages: messages.slice(i, i + SEND_CHUNK), acks: -1 });
        }
        if (positions.size > 0) {
          const byTopic = new Map<string, { partition: number; offset: string; metadata: string }[]>();
          for (const p of positions.values()) {
            let partitions = byTopic.get(p.topic);
            if (!partitions) byTopic.set(p.topic, (partitions = []));
            const metadata = JSON.stringify(p.done ? { ...times, done: p.done } : times);
            partitions.push({ partition: p.partition, offset: String(p.offset), metadata });
          }
          const offsets = {
            consumerGroupId: this.groupId,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          };
          await withConcurrentTransactionRetry(() => transaction!.sendOffsets(offsets));
        }
        await transaction.commit();
      } catch (error) {
        if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
        this.fail(`writing its results to topic ${this.sink.topic} failed: ${(error as Error).message}`);
      } finally {
        const ended = this.transactionEnded;
        this.transactionEnded = undefined;
        ended?.resolve();
        this.resumeAfterTransaction();
      }
    }
  }

  /** Rebuilds a table sink's rows (and an aggregation's state, which equals its output) from the sink topic. */
  private async restoreFromSink(processor: Processor): Promise<void> {
    const keyIndex = this.plan.keyIndex;
    if (keyIndex < 0) return;
    const keyColumn = this.plan.columns[keyIndex]!;
    const valueIndexes = this.plan.columns.map((c, i) => (c.key ? -1 : i)).filter((i) => i >= 0);
    const decode = jsonValueDecoder(valueIndexes.map((i) => this.plan.columns[i]!));
    await readTopicToEnd(this.handles, this.sink.topic, `${this.groupId}-restore-`, (message) => {
      try {
        const key = deserializeKafkaKey(keyColumn.type, message.key);
        if (message.value === null) {
          this.materialized.delete(key);
          return;
        }
        const values = new Array(this.plan.columns.length).fill(null);
        values[keyIndex] = key;
        decode(message.value).forEach((v, j) => {
          values[valueIndexes[j]!] = v;
        });
        this.materialized.set(key, { values, timestamp: message.timestamp });
      } catch {
        // Undecodable sink record: skipped, like ksqlDB's deserializer would.
      }
    });
    if (processor.restore) for (const row of this.materialized.values()) processor.restore(row.values);
    if (this.materialized.size > 0)
      this.logger.info(`${this.id}: restored ${this.materialized.size} row(s) from ${this.sink.topic}`);
  }

  /**
   * Stops the query for good (state ERROR), visibly: the reason goes to the log, to `errorMessage` and to the query's
   * errors (EXPLAIN). Its input stops being read; output not committed yet is discarded with its transaction, and the
   * input offsets stay where the last commit left them.
   */
  fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.state = 'ERROR';
    const message = `Query ${this.id} stopped: ${reason}`;
    this.errorMessage = message;
    this.queryErrors.push({ timestamp: Date.now(), errorMessage: message, type: 'UNKNOWN' });
    this.logger.warn(message);
    this.clearTimers();
    if (this.consumer) this.consumer.pause(this.plan.inputs.map((i) => ({ topic: i.source.topic })));
  }

  /** Stops consuming after the current batch; its results are flushed and its offsets committed first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    this.state = 'PENDING_SHUTDOWN';
    // Let running batches finish, commit what they produced, then leave the group.
    await this.consumer?.stop().catch(() => undefined);
    while (
      this.producer &&
      !this.failed &&
      (this.committing || this.pendingOutput.length > 0 || this.pendingPositions.size > 0)
    )
      await this.runCommitLoop();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    this.consumer = undefined;
    this.state = 'NOT_RUNNING';
  }

  /** Stops and forgets the query's consumer group (TERMINATE / DROP). */
  async terminate(): Promise<void> {
    await this.stop();
    await this.handles.admin.deleteGroups([this.groupId]).catch(() => undefined);
  }
}
