import type { Context } from '../core/context.js';
import { settleWithin, within, type Clock } from '../core/waiter.js';
import { type CliError, InterruptedError, isClassifiedError, isCliError, OperationError } from '../core/errors.js';
import { tcpReachable } from '../core/probes.js';
import { availableParallelism } from 'node:os';
import type { Kafka } from '../kafka/client.js';
import type { Output } from '../core/output.js';
import { PRODUCER_CONFIG, createKafka, describeBootstrap, type KafkaTarget } from '../kafka/client.js';
import { resolveKafkaTarget } from '../kafka/connection.js';
import { connectionTimeoutError, kafkaOperationError, type KafkaErrorContext } from '../kafka/errors.js';
import { batchSender, type Compression } from '../kafka/producer.js';
import { assertTopicsExist, partitionCounts } from '../kafka/topics.js';
import { CONTRACT_VIOLATION_HINT, isContractViolation } from './contracts.js';
import { startLiveStats } from './live-stats.js';
import { Lane, type LaneEvents } from './lane.js';
import { OutageLog, retryThroughOutages, type OutageNotices } from './outage.js';
import { ProducerThreadCrash, RemoteLane } from './lane-threads.js';
import type { TopicPartitions } from './lane-thread-protocol.js';
import { buildWordPools, type WordPools } from './population.js';
import { randomSeed } from './random.js';
import type { InputTopic } from './records.js';
import { runProducer, RunTracker, type LaneHandle, type StopReason } from './runner.js';
import { ProduceStats } from './stats.js';
import { Workload } from './workload.js';

export interface ProduceSettings {
  topics: InputTopic[];
  /** Prepended to every topic name; none when absent. */
  topicPrefix?: string;
  /** Jobs per second; undefined = unlimited. */
  rate: number | undefined;
  count?: number;
  durationMs?: number;
  trucks: number;
  truckIntervalMs: number;
  acceptRatio: number;
  maxOrderDelayMs: number;
  seed?: number;
  compression: Compression;
  connectTimeoutMs: number;
  /** Producer threads; 0 sends from the main thread. Default: one per chosen job topic (see defaultThreads). */
  threads?: number;
  /** How long the broker may stay unreachable mid-run before produce gives up (default 1 minute). */
  maxOutageMs?: number;
}

export interface ProduceResult {
  target: 'cloud' | 'local';
  bootstrap: string;
  seed: number;
  stoppedBy: StopReason;
  /** Jobs generated; each yields one record on each chosen job topic. */
  jobs: number;
  /** Records handed to the producer / acknowledged by the broker (acks=all) / failed. */
  sent: number;
  acked: number;
  errors: number;
  /** Average key + value size of the acknowledged records, bytes. */
  averageRecordBytes: number;
  topics: Array<{ topic: InputTopic; name: string; acked: number }>;
  durationMs: number;
  jobsPerSecond: number;
  recordsPerSecond: number;
  ackLatencyMs: { p50: number | null; p99: number | null };
  /** Broker outages ridden out (or, with stoppedBy "error", the one that outlasted --max-outage). */
  outages: { count: number; longestMs: number };
  error?: { message: string; hint?: string };
}

export async function produce(ctx: Context, settings: ProduceSettings): Promise<ProduceResult> {
  const loaded = await ctx.loadConfig();
  const target = await resolveKafkaTarget(loaded, ctx.secrets);
  const bootstrap = describeBootstrap(target.bootstrap);
  const errorContext = { target: target.target, bootstrap };
  const topicName = (topic: string) => prefixed(settings, topic);
  const seed = settings.seed ?? randomSeed();

  // Short kafkajs retry rounds: riding out a broker outage is retryThroughOutages' job (bounded by --max-outage), and
  // short rounds let it notice the outage, and give up at its limit, within seconds rather than after ~10 s rounds.
  const kafka = createKafka({
    ...target,
    clientId: CLIENT_ID,
    out: ctx.out,
    retries: PRODUCER_CLIENT_RETRIES,
    signal: ctx.signal,
  });
  ctx.out.debug(`producing to ${bootstrap} (${target.target}) with seed ${seed}`);

  const clock = ctx.clock;
  const stats = new ProduceStats(clock.now());
  const tracker = new RunTracker(stats);
  // Producer threads start now: loading their modules overlaps the checks below.
  const maxOutageMs = settings.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS;
  const outages = new OutageLog();
  const notices = outageNotices(
    outages,
    (line) => ctx.out.warn(line),
    (line) => ctx.out.info(line),
    bootstrap,
    maxOutageMs,
  );
  const lanes = startLanes(settings, {
    kafka,
    target,
    seed,
    events: tracker,
    out: ctx.out,
    topicName,
    maxOutageMs,
    notices,
    signal: ctx.signal,
    clock,
  });
  let handles: LaneHandle[];
  try {
    await assertSomeBrokerReachable(target.bootstrap, settings.connectTimeoutMs, errorContext, ctx.signal);
    const partitions = await assertTopicsReady(target, settings, ctx, errorContext);
    const pools = await buildWordPools(seed);
    handles = await within(lanes.connect(pools, partitions), {
      timeoutMs: settings.connectTimeoutMs,
      signal: ctx.signal,
      onTimeout: () =>
        connectionTimeoutError('connecting the producer', settings.connectTimeoutMs, errorContext, '--connect-timeout'),
    });
  } catch (error) {
    await lanes.close();
    if (ctx.signal.aborted) throw new InterruptedError('interrupted while connecting; no record was sent');
    throw produceFailure(error, 'connecting the producer', errorContext);
  }
  const stopLive = startLiveStats(ctx.out, () => stats.snapshot(clock.now()));
  const onAbort = () => {
    const inFlight = stats.sent - stats.acked - stats.errors;
    ctx.out.info(`\nStopping: sending the records already generated${inFlight > 0 ? ` (${inFlight} in flight)` : ''}…`);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let outcome: Awaited<ReturnType<typeof runProducer>>;
  try {
    outcome = await runProducer({
      lanes: handles,
      tracker,
      ratePerSecond: settings.rate,
      maxJobs: settings.count,
      durationMs: settings.durationMs,
      signal: ctx.signal,
      clock,
    });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    stopLive();
    await lanes.close();
  }

  const memory = process.memoryUsage();
  ctx.out.debug(
    `memory: rss ${mb(memory.rss)} MB, heap ${mb(memory.heapUsed)}/${mb(memory.heapTotal)} MB, external ${mb(memory.external)} MB (buffers ${mb(memory.arrayBuffers)} MB)`,
  );
  const durationMs = outcome.endedAt - stats.startedAt;
  const seconds = Math.max(durationMs, 1) / 1000;
  // The job rate is measured over the time jobs were being made: with --count that ends at the last job, not
  // after the tail of delayed orders.
  const generationEnd = outcome.stoppedBy === 'count' ? (stats.lastJobAt ?? outcome.stoppedAt) : outcome.stoppedAt;
  const generationSeconds = Math.max(generationEnd - stats.startedAt, 1) / 1000;
  const result: ProduceResult = {
    target: target.target,
    bootstrap,
    seed,
    stoppedBy: outcome.stoppedBy,
    jobs: stats.jobs,
    sent: stats.sent,
    acked: stats.acked,
    errors: stats.errors,
    averageRecordBytes: stats.acked === 0 ? 0 : Math.round(stats.ackedBytes / stats.acked),
    topics: settings.topics.map((topic) => ({ topic, name: topicName(topic), acked: stats.ackedByTopic[topic] })),
    durationMs: Math.round(durationMs),
    jobsPerSecond: round(stats.jobs / generationSeconds),
    recordsPerSecond: round(stats.acked / seconds),
    ackLatencyMs: { p50: roundOrNull(stats.latency.percentile(50)), p99: roundOrNull(stats.latency.percentile(99)) },
    outages: { count: outages.count, longestMs: Math.round(outages.longestMs) },
  };
  if (outcome.stoppedBy === 'error') {
    const error = produceFailure(outcome.error, 'sending records', errorContext);
    result.error = { message: error.message, hint: error.hint };
  }
  return result;
}

/**
 * What a failed run reports: kafkajs' and Node's failures and a broker outage longer than --max-outage as a Kafka
 * failure with what to do, a producer thread that died as one to report, the project's own errors as they are.
 * Anything else is a bug: thrown unchanged, so the boundary reports it as one.
 */
export function produceFailure(error: unknown, what: string, context: KafkaErrorContext): CliError {
  if (isCliError(error)) return error;
  // A producer thread reports a record that broke its contract by name and message only.
  if (isContractViolation(error))
    return new OperationError(error.message, { hint: CONTRACT_VIOLATION_HINT, cause: error });
  if (error instanceof ProducerThreadCrash) {
    return new OperationError(error.message, {
      hint: error.outOfMemory
        ? 'Run with --threads 0 to produce from the main thread, whose memory is not capped, and report this.'
        : 'Run with --threads 0 to produce from the main thread, and report this with the output of --verbose.',
      cause: error,
    });
  }
  // OutageTooLong keeps its name when a producer thread reports it.
  if (isClassifiedError(error) || (error as Error | undefined)?.name === 'OutageTooLong') {
    return kafkaOperationError(error, what, context);
  }
  throw error;
}

export const DEFAULT_MAX_OUTAGE_MS = 60_000;

function prefixed(settings: ProduceSettings, topic: string): string {
  return `${settings.topicPrefix ?? ''}${topic}`;
}
const PRODUCER_CLIENT_RETRIES = 2;

/**
 * One notice when the broker goes away and one when it is back, however many producers (threads) notice it; the
 * log counts outages and keeps the longest.
 */
function outageNotices(
  log: OutageLog,
  warn: (line: string) => void,
  info: (line: string) => void,
  bootstrap: string,
  maxOutageMs: number,
): OutageNotices {
  let waiting = 0;
  return {
    onOutage: (reason) => {
      if (waiting++ > 0) return;
      log.count++;
      warn(
        `Kafka at ${bootstrap} unreachable (${reason}); retrying for up to ${Math.round(maxOutageMs / 1000)} s, records stay queued`,
      );
    },
    onRecovered: (outageMs) => {
      log.longestMs = Math.max(log.longestMs, outageMs);
      if (--waiting > 0) return;
      waiting = 0;
      info(`Kafka at ${bootstrap} is back after ${(outageMs / 1000).toFixed(1)} s; resuming`);
    },
    onGaveUp: (outageMs) => {
      if (waiting === 0) log.count++;
      log.longestMs = Math.max(log.longestMs, outageMs);
    },
  };
}

const MAX_DEFAULT_THREADS = 3;

/** Below this many job records per second one producer on the main thread has plenty of headroom. */
const THREADS_FROM_RECORDS_PER_SECOND = 5_000;

/**
 * At high rates the records are generated, encoded and sent from producer threads, whose heaps are capped (the
 * main thread's is not, and at full speed it grows past the 200 MB target), leaving the main thread free for the
 * run loop and the stats. With spare cores each busy topic gets a thread of its own (truck reports are few and
 * share the first); one core is left for the main thread and the broker, so a 2-core machine gets one thread.
 * At low rates threads would only cost start-up time and memory.
 */
export function defaultThreads(
  topics: readonly InputTopic[],
  rate: number | undefined,
  cores = availableParallelism(),
): number {
  const jobTopics = topics.filter((topic) => topic !== 'tradie_truck_location').length;
  if (rate !== undefined && rate * jobTopics < THREADS_FROM_RECORDS_PER_SECOND) return 0;
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, jobTopics, cores - 1));
}

/**
 * A client without retries for the start-up check: a broker that does not answer the first attempt within the
 * timeout is reported now, and no kafkajs retry timer outlives the error.
 */
async function assertTopicsReady(
  target: KafkaTarget,
  settings: ProduceSettings,
  ctx: Pick<Context, 'out' | 'signal'>,
  errorContext: KafkaErrorContext,
): Promise<TopicPartitions> {
  const timeoutMs = settings.connectTimeoutMs;
  const admin = createKafka({
    ...target,
    clientId: CLIENT_ID,
    out: ctx.out,
    retries: 0,
    connectionTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    signal: ctx.signal,
    timeoutSetting: '--connect-timeout',
  }).admin();
  try {
    await admin.connect();
    const names = settings.topics.map((topic) => prefixed(settings, topic));
    await assertTopicsExist(admin, names);
    const counts = await partitionCounts(admin, names);
    return Object.fromEntries(settings.topics.map((topic) => [topic, counts.get(prefixed(settings, topic))]));
  } catch (error) {
    throw produceFailure(error, 'connecting', errorContext);
  } finally {
    await admin.disconnect();
  }
}

interface LanesContext {
  kafka: Kafka;
  target: KafkaTarget;
  seed: number;
  events: LaneEvents;
  out: Output;
  topicName: (topic: string) => string;
  maxOutageMs: number;
  notices: OutageNotices;
  signal: AbortSignal;
  clock: Clock;
}

interface StartingLanes {
  /** Connects every producer; the lanes then generate from these word pools. */
  connect(pools: WordPools, partitions: TopicPartitions): Promise<LaneHandle[]>;
  close(): Promise<void>;
}

const CLIENT_ID = 'marketplace-produce';

/** The producers: threads that each generate and send some topics, or one lane on this thread. */
function startLanes(settings: ProduceSettings, context: LanesContext): StartingLanes {
  const workloadOptions = {
    seed: context.seed,
    acceptRatio: settings.acceptRatio,
    maxOrderDelayMs: settings.maxOrderDelayMs,
    trucks: settings.trucks,
    truckIntervalMs: settings.truckIntervalMs,
  };
  const threads = settings.threads ?? defaultThreads(settings.topics, settings.rate);
  if (threads === 0) {
    const producer = context.kafka.producer(PRODUCER_CONFIG);
    return {
      connect: async (pools, partitions) => {
        await producer.connect();
        const lane = new Lane({
          partitions,
          workload: new Workload({ ...workloadOptions, pools, topics: new Set(settings.topics) }),
          send: retryThroughOutages(
            batchSender<InputTopic>(producer, { compression: settings.compression, topicName: context.topicName }),
            {
              maxOutageMs: context.maxOutageMs,
              clock: context.clock,
              signal: context.signal,
              ...context.notices,
            },
          ),
          clock: context.clock,
          events: context.events,
        });
        return [lane];
      },
      close: () => settleWithin(producer.disconnect()),
    };
  }

  // Busy topics first, so each gets a thread of its own when there are enough; truck reports share the first.
  const ordered = [...settings.topics].sort(
    (a, b) => Number(a === 'tradie_truck_location') - Number(b === 'tradie_truck_location'),
  );
  const count = Math.min(threads, ordered.length);
  const remotes = Array.from(
    { length: count },
    (_, index) =>
      new RemoteLane(
        {
          ...workloadOptions,
          target: context.target,
          clientId: CLIENT_ID,
          verbose: context.out.verbose,
          compression: settings.compression,
          topics: ordered.filter((_, position) => position % count === index),
          topicPrefix: prefixed(settings, ''),
          maxOutageMs: context.maxOutageMs,
          retries: PRODUCER_CLIENT_RETRIES,
        },
        count,
        context.events,
        (line) => context.out.debug(line),
        context.notices,
      ),
  );
  // Ctrl-C during an outage: the threads stop re-sending at once, as the main-thread producer does.
  const abort = () => {
    for (const remote of remotes) remote.abort();
  };
  context.signal.addEventListener('abort', abort, { once: true });
  return {
    connect: async (pools, partitions) => {
      await Promise.all(remotes.map((remote) => remote.connect(pools, partitions)));
      return remotes;
    },
    close: async () => {
      context.signal.removeEventListener('abort', abort);
      await Promise.all(remotes.map((remote) => remote.close().catch(() => undefined)));
    },
  };
}

/**
 * A plain TCP probe first: kafkajs retries a refused connection for several seconds and keeps the process alive
 * after giving up, whereas a dead address should fail at once with a clear message.
 */
async function assertSomeBrokerReachable(
  bootstrap: string[],
  timeoutMs: number,
  context: { target: 'cloud' | 'local'; bootstrap: string },
  signal: AbortSignal,
): Promise<void> {
  const probes = await Promise.all(bootstrap.map((hostPort) => tcpReachable(hostPort, timeoutMs, signal)));
  if (probes.some((probe) => probe.ok)) return;
  throw kafkaOperationError(new Error(probes.map((probe) => probe.detail).join('; ')), 'connecting', context);
}

function mb(bytes: number): number {
  return Math.round(bytes / 1048576);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 100) / 100;
}
