import type { Context } from '../core/context.js';
import { isCliError } from '../core/errors.js';
import { tcpReachable } from '../core/probes.js';
import { PRODUCER_CONFIG, createKafka, describeBootstrap } from '../kafka/client.js';
import { resolveKafkaTarget } from '../kafka/connection.js';
import { connectionTimeoutError, kafkaOperationError } from '../kafka/errors.js';
import { batchSender, type Compression } from '../kafka/producer.js';
import { assertTopicsExist } from '../kafka/topics.js';
import { startLiveStats } from './live-stats.js';
import { OutageLog, retryThroughOutages } from './outage.js';
import { buildWordPools } from './population.js';
import { randomSeed } from './random.js';
import type { InputTopic, OutgoingRecord } from './records.js';
import { preciseClock, runProducer, type StopReason } from './runner.js';
import { ProduceStats } from './stats.js';
import { Workload } from './workload.js';

export interface ProduceSettings {
  topics: InputTopic[];
  topicPrefix: string;
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

export const DEFAULT_MAX_OUTAGE_MS = 60_000;
const PRODUCER_CLIENT_RETRIES = 2;

export async function produce(ctx: Context, settings: ProduceSettings): Promise<ProduceResult> {
  const loaded = await ctx.loadConfig();
  const target = await resolveKafkaTarget(loaded, ctx.secrets);
  const bootstrap = describeBootstrap(target.bootstrap);
  const errorContext = { target: target.target, bootstrap };
  const topicName = (topic: string) => `${settings.topicPrefix}${topic}`;
  const seed = settings.seed ?? randomSeed();

  // Short kafkajs retry rounds: riding out a broker outage is retryThroughOutages' job (bounded by --max-outage), and
  // short rounds let it notice the outage, and give up at its limit, within seconds rather than after ~10 s rounds.
  const kafka = createKafka({ ...target, clientId: 'marketplace-produce', out: ctx.out, retries: PRODUCER_CLIENT_RETRIES });
  ctx.out.debug(`producing to ${bootstrap} (${target.target}) with seed ${seed}`);

  await assertSomeBrokerReachable(target.bootstrap, settings.connectTimeoutMs, errorContext);
  // A client without retries for the start-up check: a broker that does not answer the first attempt within the
  // timeout is reported now, and no kafkajs retry timer outlives the error.
  const probe = createKafka({ ...target, clientId: 'marketplace-produce', out: ctx.out, retries: 0, connectionTimeoutMs: settings.connectTimeoutMs });
  const admin = probe.admin();
  try {
    await within(admin.connect(), settings.connectTimeoutMs, () => connectionTimeoutError('connecting', settings.connectTimeoutMs, errorContext));
    await within(assertTopicsExist(admin, settings.topics.map(topicName)), settings.connectTimeoutMs, () =>
      connectionTimeoutError('listing topics', settings.connectTimeoutMs, errorContext),
    );
  } catch (error) {
    throw isCliError(error) ? error : kafkaOperationError(error, 'connecting', errorContext);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const producer = kafka.producer(PRODUCER_CONFIG);
  try {
    await within(producer.connect(), settings.connectTimeoutMs, () =>
      connectionTimeoutError('connecting the producer', settings.connectTimeoutMs, errorContext),
    );
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw isCliError(error) ? error : kafkaOperationError(error, 'connecting the producer', errorContext);
  }

  const pools = await buildWordPools(seed);
  const workload = new Workload({
    seed,
    pools,
    topics: new Set(settings.topics),
    acceptRatio: settings.acceptRatio,
    maxOrderDelayMs: settings.maxOrderDelayMs,
    trucks: settings.trucks,
    truckIntervalMs: settings.truckIntervalMs,
  });
  const clock = preciseClock;
  const stats = new ProduceStats(clock.now());
  const stopLive = startLiveStats(ctx.out, () => stats.snapshot(clock.now()));
  const onAbort = () => {
    const inFlight = stats.sent - stats.acked - stats.errors;
    ctx.out.info(`\nStopping: sending the records already generated${inFlight > 0 ? ` (${inFlight} in flight)` : ''}…`);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const outages = new OutageLog();
  const maxOutageMs = settings.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS;
  const send = retryThroughOutages(
    batchSender<OutgoingRecord>(producer, { compression: settings.compression, topicName }),
    {
      maxOutageMs,
      clock,
      signal: ctx.signal,
      onOutage: (reason) =>
        ctx.out.warn(
          `Kafka at ${bootstrap} unreachable (${reason}); retrying for up to ${Math.round(maxOutageMs / 1000)} s, records stay queued`,
        ),
      onRecovered: (outageMs) => ctx.out.info(`Kafka at ${bootstrap} is back after ${(outageMs / 1000).toFixed(1)} s; resuming`),
    },
    outages,
  );
  let outcome;
  try {
    outcome = await runProducer({
      workload,
      send,
      ratePerSecond: settings.rate,
      maxJobs: settings.count,
      durationMs: settings.durationMs,
      signal: ctx.signal,
      clock,
      stats,
    });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    stopLive();
    await producer.disconnect().catch(() => undefined);
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
    const error = kafkaOperationError(outcome.error, 'sending records', errorContext);
    result.error = { message: error.message, hint: error.hint };
  }
  return result;
}

/**
 * A plain TCP probe first: kafkajs retries a refused connection for several seconds and keeps the process alive
 * after giving up, whereas a dead address should fail at once with a clear message.
 */
async function assertSomeBrokerReachable(
  bootstrap: string[],
  timeoutMs: number,
  context: { target: 'cloud' | 'local'; bootstrap: string },
): Promise<void> {
  const probes = await Promise.all(bootstrap.map((hostPort) => tcpReachable(hostPort, timeoutMs)));
  if (probes.some((probe) => probe.ok)) return;
  throw kafkaOperationError(new Error(probes.map((probe) => probe.detail).join('; ')), 'connecting', context);
}

async function within<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
