import type { Consumer, KafkaMessage as Message, Producer } from 'kafkajs';
import { DeserializationError, jsonValueDecoder, jsonValueEncoder, serializeKafkaKey, deserializeKafkaKey } from './serde.js';
import { newConsumer, newProducer, readTopicToEnd, seekOnFirstJoin, topicOffsets, type KafkaHandles, type PartitionOffset } from './kafka.js';
import type { Processor, QueryPlan, ResultRow } from './planner.js';
import type { DataSource } from './source.js';

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

export interface MaterializedRow {
  values: unknown[];
  timestamp: number;
}

/**
 * A CSAS/CTAS query: consumes its inputs with its own consumer group, writes results to the sink topic, and commits
 * input offsets only after the results they produced are acknowledged, so a restart neither loses nor repeats output.
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
  private commits: Promise<void> = Promise.resolve();
  private readonly sendQueue: { messages: OutputMessage[]; resolve: () => void; reject: (error: Error) => void }[] = [];
  private sending = false;
  private inflight = 0;
  private failed = false;
  private readonly valueIndexes: number[];
  private readonly encodeValue: (values: unknown[]) => Buffer;
  /** Commits the start offsets of never-committed partitions; done before the first batch or at stop. */
  private commitInitial?: () => void;
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
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        if (attempt >= 6) {
          this.state = 'ERROR';
          this.errorMessage = (error as Error).message;
          throw error;
        }
        this.logger.warn(`${this.id}: start attempt ${attempt} failed (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.state = 'RUNNING';
    this.materialized.clear();
    this.outbox.length = 0;
    this.stopping = false;
    const processor = this.plan.createProcessor((row) => this.outbox.push(row));
    this.processor = processor;
    const topics = [...new Set(this.plan.inputs.map((i) => i.source.topic))];
    if (topics.length !== this.plan.inputs.length) throw new Error('A query reading the same topic twice is not supported by the dev server');

    // Where each input partition resumes, and how far back it must replay to rebuild join state.
    const committed = await this.handles.admin.fetchOffsets({ groupId: this.groupId, topics });
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
        const byTime = await this.handles.admin.fetchTopicOffsetsByTimestamp(topic, Math.max(savedStreamTime - this.plan.windowRetentionMs, 0));
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

    if (!this.producer) {
      const producer = newProducer(this.handles.kafka);
      await producer.connect();
      this.producer = producer;
    }
    const consumer = newConsumer(this.handles, this.groupId);
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: this.offsetReset === 'earliest' });
    const pendingByKey = new Map(pending.map((p) => [`${p.topic}:${p.partition}`, p]));
    const buffered: BufferedMessage[] = [];
    const paused = new Set<string>();
    const inputByTopic = new Map(this.plan.inputs.map((spec, i) => [spec.source.topic, i]));

    this.commitInitial = initial.length === 0 ? undefined : () => {
      this.commitInitial = undefined;
      const metadata = JSON.stringify({ streamTime: processor.streamTime });
      const offsets = initial.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset), metadata }));
      this.commits = this.commits.then(() => consumer.commitOffsets(offsets).then(() => undefined)).catch((error: Error) => this.logger.warn(`${this.id}: commit failed: ${error.message}`));
    };
    // Each batch hands its rows to the producer without waiting, so consumption and production overlap; the commit
    // of its offsets is chained behind its own send and every earlier commit, so an offset is committed only once
    // all output up to it is acknowledged. A failed send stops all further commits (the query goes to ERROR).
    const commitAfterSend = async (rows: ResultRow[], positions: Map<string, { topic: string; partition: number; offset: number }>) => {
      const sent = this.send(rows);
      sent.catch(() => undefined);
      const metadata = JSON.stringify({ streamTime: processor.streamTime });
      const offsets = [...positions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset + 1), metadata }));
      this.inflight++;
      this.commits = this.commits.then(async () => {
        try {
          if (this.failed) return;
          await sent;
          if (offsets.length > 0) await consumer.commitOffsets(offsets);
        } catch (error) {
          this.failed = true;
          this.state = 'ERROR';
          this.errorMessage = (error as Error).message;
          this.logger.warn(`${this.id}: writing results failed, query stopped committing: ${(error as Error).message}`);
        } finally {
          this.inflight--;
        }
      });
      if (this.inflight > 8) await this.commits;
    };

    seekOnFirstJoin(consumer, seeks);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        this.commitInitial?.();
        const input = inputByTopic.get(batch.topic);
        if (input === undefined) return;
        const key = `${batch.topic}:${batch.partition}`;
        const positions = new Map<string, { topic: string; partition: number; offset: number }>();
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
            this.processMessage(input, batch.partition, message, true);
            positions.set(key, { topic: batch.topic, partition: batch.partition, offset });
          }
          resolveOffset(message.offset);
        }
        const replay = pendingByKey.get(key);
        if (replay && Number(batch.lastOffset()) >= replay.cut - 1) pendingByKey.delete(key);
        if (pendingByKey.size === 0 && buffered.length > 0) {
          for (const held of buffered.splice(0)) {
            this.processMessage(held.input, held.partition, held.message, true);
            positions.set(`${held.topic}:${held.partition}`, { topic: held.topic, partition: held.partition, offset: Number(held.message.offset) });
          }
          for (const pausedKey of paused) {
            const [topic, partition] = [pausedKey.slice(0, pausedKey.lastIndexOf(':')), Number(pausedKey.slice(pausedKey.lastIndexOf(':') + 1))];
            consumer.resume([{ topic, partitions: [partition] }]);
          }
          paused.clear();
        }
        await commitAfterSend(this.outbox.splice(0), positions);
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
    let decoded;
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

  /** Sends the results produced so far to the sink topic and waits for the broker's acknowledgement. */
  private async send(rows: ResultRow[]): Promise<void> {
    if (rows.length === 0) return;
    const keyColumn = this.plan.keyIndex >= 0 ? this.plan.columns[this.plan.keyIndex]! : undefined;
    const valueIndexes = this.valueIndexes;
    const encode = this.encodeValue;
    const messages = rows.map((row) => {
      const key = keyColumn ? serializeKafkaKey(keyColumn.type, row.values[this.plan.keyIndex]) : null;
      if (this.sink.type === 'TABLE' && keyColumn) {
        const keyValue = row.values[this.plan.keyIndex];
        if (row.tombstone) this.materialized.delete(keyValue);
        else this.materialized.set(keyValue, { values: row.values, timestamp: row.timestamp });
      }
      return {
        key,
        value: row.tombstone ? null : encode(valueIndexes.map((i) => row.values[i])),
        timestamp: String(row.timestamp),
      };
    });
    return new Promise<void>((resolve, reject) => {
      this.sendQueue.push({ messages, resolve, reject });
      void this.pumpSends();
    });
  }

  /**
   * Sends queued output strictly in order (concurrent kafkajs sends may reach the broker in any order, which would
   * leave a stale last value per key), coalescing whatever queued up while the previous send was in flight.
   */
  private async pumpSends(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.sendQueue.length > 0) {
        const items = this.sendQueue.splice(0);
        const messages = items.flatMap((item) => item.messages);
        try {
          for (let i = 0; i < messages.length; i += 5000) {
            await this.producer!.send({ topic: this.sink.topic, messages: messages.slice(i, i + 5000), acks: -1 });
          }
          items.forEach((item) => item.resolve());
        } catch (error) {
          items.forEach((item) => item.reject(error as Error));
        }
      }
    } finally {
      this.sending = false;
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
        decode(message.value).forEach((v, j) => (values[valueIndexes[j]!] = v));
        this.materialized.set(key, { values, timestamp: message.timestamp });
      } catch {
        // Undecodable sink record: skipped, like ksqlDB's deserializer would.
      }
    });
    if (processor.restore) for (const row of this.materialized.values()) processor.restore(row.values);
    if (this.materialized.size > 0) this.logger.info(`${this.id}: restored ${this.materialized.size} row(s) from ${this.sink.topic}`);
  }

  /** Stops consuming after the current batch; its results are flushed and its offsets committed first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.state = 'PENDING_SHUTDOWN';
    this.commitInitial?.();
    // Let running batches finish (their output sent, their commits queued), commit, then leave the group.
    await this.consumer?.stop().catch(() => undefined);
    await this.commits;
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
