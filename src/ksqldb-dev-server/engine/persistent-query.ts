import type { Consumer, KafkaMessage as Message, Producer } from 'kafkajs';
import {
  DeserializationError,
  jsonValueDecoder,
  jsonValueEncoder,
  serializeKafkaKey,
  deserializeKafkaKey,
} from './serde.js';
import {
  newConsumer,
  newTransactionalProducer,
  readTopicToEnd,
  seekOnFirstJoin,
  topicOffsets,
  type KafkaHandles,
  type PartitionOffset,
} from './kafka.js';
import type { DecodedRecord, Processor, QueryPlan, ResultRow } from './planner.js';
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

interface PendingPartition {
  input: number;
  topic: string;
  partition: number;
  /** Records below this offset were processed before the last stop: they only rebuild state. */
  cut: number;
}

interface BufferedMessage {
  input: number;
  topic: string;
  partition: number;
  message: Message;
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
  ) {
    this.groupId = `${serviceGroupPrefix}query_${id}`;
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
      this.state = 'ERROR';
      const cause = failure ?? error;
      this.errorMessage = (cause as Error).message;
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
    const processor = this.plan.createProcessor((row) => this.outbox.push(row));
    this.processor = processor;
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
    // A table's rows (and an aggregation's state) come back from its sink topic, but only for a query that ran before:
    // a new query must not pick up whatever an older one left in the topic.
    if (this.sink.type === 'TABLE' && resuming) await this.restoreFromSink(processor);

    let savedStreamTime = -1;
    for (const topic of committed) {
      for (const p of topic.partitions) {
        if (Number(p.offset) >= 0 && p.metadata) {
          try {
            const meta = JSON.parse(p.metadata) as { streamTime?: number };
            if (typeof meta.streamTime === 'number') savedStreamTime = Math.max(savedStreamTime, meta.streamTime);
          } catch {
            // Metadata written by someone else: no stream time to restore.
          }
        }
      }
    }
    const pending: PendingPartition[] = [];
    const seeks: PartitionOffset[] = [];
    // Partitions this query has never committed: their start (per auto.offset.reset) is committed right away, so a
    // restart resumes there even if no record arrived in between.
    const initial: PartitionOffset[] = [];
    for (const [input, spec] of this.plan.inputs.entries()) {
      const topic = spec.source.topic;
      const bounds = await topicOffsets(this.handles.admin, topic);
      const commits = committed.find((c) => c.topic === topic)?.partitions ?? [];

      let replayFrom = new Map<number, number>();
      if (spec.replay === 'window' && savedStreamTime >= 0) {
        const since = Math.max(savedStreamTime - this.plan.windowRetentionMs, 0);
        const byTime = await retryWhileNotReady(() => this.handles.admin.fetchTopicOffsetsByTimestamp(topic, since), {
          what: `the leaders of topic ${topic} to answer`,
          timeoutMs: COORDINATOR_TIMEOUT_MS,
        });
        replayFrom = new Map(byTime.map((o) => [o.partition, Number(o.offset)]));
      }
      for (const bound of bounds) {
        const commit = commits.find((c) => c.partition === bound.partition);
        let cut = commit ? Number(commit.offset) : -1;
        if (cut < 0) {
          cut = this.offsetReset === 'earliest' ? bound.low : bound.high;
          initial.push({ topic, partition: bound.partition, offset: cut });
          seeks.push({ topic, partition: bound.partition, offset: cut });
          continue;
        }
        cut = Math.max(cut, bound.low);
        let start = cut;
        if (spec.replay === 'all') start = bound.low;
        else if (spec.replay === 'window') {
          const byTime = replayFrom.get(bound.partition);
          if (byTime !== undefined && byTime >= 0) start = Math.min(Math.max(byTime, bound.low), cut);
        }
        if (start < cut) {
          pending.push({ input, topic, partition: bound.partition, cut });
          seeks.push({ topic, partition: bound.partition, offset: start });
        }
      }
    }
    if (pending.length > 0) this.logger.info(`${this.id}: rebuilding state from ${pending.length} input partition(s)`);

    const consumer = newConsumer(this.handles, this.groupId);
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: this.offsetReset === 'earliest' });
    const pendingByKey = new Map(pending.map((p) => [`${p.topic}:${p.partition}`, p]));
    const buffered: BufferedMessage[] = [];
    const paused = new Set<string>();
    const inputByTopic = new Map(this.plan.inputs.map((spec, i) => [spec.source.topic, i]));
    // Next offset per partition already processed in this run: a rebalance may hand back records from the last
    // committed offset, and those must not be processed (and joined) twice.
    const processedUpTo = new Map<string, number>();

    // Partitions never committed before get their start committed in the first transaction, so a restart resumes
    // there even if no record arrived in between.
    for (const p of initial)
      this.pendingPositions.set(`${p.topic}:${p.partition}`, {
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
      });
    if (initial.length > 0) this.scheduleCommit();
    const emitFrom = (key: string, topic: string, partition: number, message: Message, input: number): void => {
      const offset = Number(message.offset);
      if (offset < (processedUpTo.get(key) ?? -1)) return;
      processedUpTo.set(key, offset + 1);
      this.processMessage(input, partition, message, true);
      this.pendingPositions.set(key, { topic, partition, offset: offset + 1 });
    };

    // Once every partition has replayed up to where it had been processed, the records held back meanwhile go on.
    const releaseWhenRebuilt = (): void => {
      if (pendingByKey.size > 0 || buffered.length === 0) return;
      for (const held of buffered.splice(0))
        emitFrom(`${held.topic}:${held.partition}`, held.topic, held.partition, held.message, held.input);
      for (const pausedKey of paused) {
        const [topic, partition] = [
          pausedKey.slice(0, pausedKey.lastIndexOf(':')),
          Number(pausedKey.slice(pausedKey.lastIndexOf(':') + 1)),
        ];
        consumer.resume([{ topic, partitions: [partition] }]);
      }
      paused.clear();
    };
    // A replay range may end in transaction markers, which reach no eachBatch; the end of every batch does.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const key = `${payload.topic}:${payload.partition}`;
      const replay = pendingByKey.get(key);
      if (!replay || Number(payload.lastOffset) < replay.cut - 1) return;
      pendingByKey.delete(key);
      releaseWhenRebuilt();
      this.enqueueOutput(this.outbox.splice(0));
      this.scheduleCommit();
    });

    seekOnFirstJoin(consumer, seeks);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const input = inputByTopic.get(batch.topic);
        if (input === undefined || this.failed) return;
        const key = `${batch.topic}:${batch.partition}`;
        for (const message of batch.messages) {
          if (this.stopping) break;
          const offset = Number(message.offset);
          const replay = pendingByKey.get(key);
          if (replay && offset < replay.cut) {
            this.processMessage(input, batch.partition, message, false);
            if (offset >= replay.cut - 1) pendingByKey.delete(key);
          } else {
            if (replay) pendingByKey.delete(key);
            if (pendingByKey.size > 0) {
              // Other partitions are still rebuilding state: hold this record until they are done.
              buffered.push({ input, topic: batch.topic, partition: batch.partition, message });
              resolveOffset(message.offset);
              if (!paused.has(key)) {
                paused.add(key);
                consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
              }
              continue;
            }
            emitFrom(key, batch.topic, batch.partition, message, input);
          }
          resolveOffset(message.offset);
        }
        const replay = pendingByKey.get(key);
        if (replay && Number(batch.lastOffset()) >= replay.cut - 1) pendingByKey.delete(key);
        releaseWhenRebuilt();
        this.enqueueOutput(this.outbox.splice(0));
        if (this.pendingOutput.length >= MAX_PENDING_OUTPUT) {
          // Enough for a transaction: start one now rather than after this fetch, and wait while one is running.
          void this.runCommitLoop();
          while (this.pendingOutput.length >= MAX_PENDING_OUTPUT && this.committing && !this.failed)
            await this.nextTransactionEnd();
        }
        this.scheduleCommit();
        await heartbeat();
      },
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const error = (event.payload as { error?: Error }).error;
      this.logger.warn(`${this.id}: consumer crashed: ${error?.message ?? 'unknown error'}`);
      if (!(event.payload as { restart?: boolean }).restart) {
        this.state = 'ERROR';
        this.errorMessage = error?.message;
      }
    });
  }

  private processMessage(input: number, partition: number, message: Message, emitting: boolean): void {
    const spec = this.plan.inputs[input]!;
    let decoded: DecodedRecord;
    try {
      decoded = spec.decode({
        key: message.key,
        value: message.value,
        timestamp: Number(message.timestamp),
        partition,
        offset: Number(message.offset),
      });
    } catch (error) {
      if (error instanceof DeserializationError) {
        this.skippedRecords++;
        return;
      }
      throw error;
    }
    if (emitting) this.processedRecords++;
    this.processor!.process(input, decoded, emitting);
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
    this.committing ??= this.commitLoop().finally(() => (this.committing = undefined));
    return this.committing;
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
      const metadata = JSON.stringify({ streamTime: this.processor?.streamTime ?? -1 });
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
        this.failed = true;
        this.state = 'ERROR';
        this.errorMessage = (error as Error).message;
        this.logger.warn(`${this.id}: writing results failed, query stopped: ${(error as Error).message}`);
        if (this.consumer) this.consumer.pause(this.plan.inputs.map((i) => ({ topic: i.source.topic })));
      } finally {
        const ended = this.transactionEnded;
        this.transactionEnded = undefined;
        ended?.resolve();
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

  /** Stops consuming after the current batch; its results are flushed and its offsets committed first. */
  async stop(): Promise<void> {
    this.stopping = true;
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
