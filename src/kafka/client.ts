import { Kafka, logLevel, type KafkaConfig, type LogEntry, type ProducerConfig } from 'kafkajs';
import type { Output } from '../core/output.js';
import { bounded } from './bounded.js';
import { connectionTimeoutError } from './errors.js';
import { JavaCompatiblePartitioner } from './partitioner.js';
import { installProduceEncoder } from './produce-encoder.js';

/** The kafkajs types other modules hold on to; kafkajs itself is imported only under src/kafka. */
export type { Admin, Consumer, Kafka } from 'kafkajs';

export interface KafkaTarget {
  target: 'cloud' | 'local';
  /** host:port list. */
  bootstrap: string[];
  /** Cloud: the cluster API key (username) and secret (password), over SASL_SSL/PLAIN. */
  sasl?: { username: string; password: string };
  /** PEM CA bundle for TLS to a broker with a private CA (the local SASL_SSL listener). */
  ca?: string;
}

export interface CreateKafkaOptions extends KafkaTarget {
  clientId: string;
  /** kafkajs logs go to out.debug (shown with --verbose only). */
  out?: Pick<Output, 'verbose' | 'debug'>;
  connectionTimeoutMs?: number;
  /** How long kafkajs waits for the answer to one request (default 30 s): requestTimeout from the configuration. */
  requestTimeoutMs?: number;
  /** Connection and request retries of every client made from this instance (default 5). */
  retries?: number;
  /** Ctrl-C: every call of every client made from this instance ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
  /** The setting a timeout message names as giving the broker longer (default requestTimeout). */
  timeoutSetting?: string;
}

/** Confluent Cloud's TLS handshakes and connection-rate limits routinely exceed kafkajs' 1 s default. */
export const CLOUD_CONNECTION_TIMEOUT_MS = 10_000;
export const LOCAL_CONNECTION_TIMEOUT_MS = 5_000;

/**
 * The client for one target: SASL_SSL/PLAIN with TLS for cloud (or whenever credentials are given), plaintext
 * otherwise. Every call of the admins, producers and consumers it makes is bounded by the request timeout and the
 * signal (see bounded.ts), so a silent broker or Ctrl-C never holds a command for kafkajs' retries.
 */
export function createKafka(options: CreateKafkaOptions): Kafka {
  installProduceEncoder();
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const secure = options.sasl !== undefined || options.target === 'cloud';
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.bootstrap,
    connectionTimeout: Math.min(
      options.connectionTimeoutMs ?? (secure ? CLOUD_CONNECTION_TIMEOUT_MS : LOCAL_CONNECTION_TIMEOUT_MS),
      requestTimeout,
    ),
    authenticationTimeout: Math.min(10_000, requestTimeout),
    requestTimeout,
    retry: { initialRetryTime: 300, retries: options.retries ?? 5 },
    logLevel: options.out?.verbose ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry) => options.out?.debug(formatLogEntry(entry)),
  };
  if (secure) {
    config.ssl = options.ca ? { ca: [options.ca] } : true;
    if (options.sasl) {
      config.sasl = { mechanism: 'plain', username: options.sasl.username, password: options.sasl.password };
    }
  }
  const kafka = new Kafka(config);
  const bounds = {
    timeoutMs: requestTimeout,
    signal: options.signal,
    onTimeout: (what: string) =>
      connectionTimeoutError(
        what,
        requestTimeout,
        { target: options.target, bootstrap: describeBootstrap(options.bootstrap) },
        options.timeoutSetting,
      ),
  };
  return new Proxy(kafka, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'admin' && property !== 'producer' && property !== 'consumer') return value;
      const make = value as (...args: unknown[]) => Parameters<typeof bounded>[0];
      return (...args: unknown[]) => bounded(make.apply(target, args), bounds);
    },
  });
}

/**
 * Producer settings every record of this tool is sent with: idempotent (so retries never duplicate), one request
 * in flight (kafkajs' idempotent producer breaks sequence numbers with more, kafkajs#598), and a Java-compatible
 * murmur2 partitioner passed explicitly so keys land where ksqlDB and Java clients expect them (same partitions as
 * kafkajs' DefaultPartitioner, which a unit test checks).
 */
export const PRODUCER_CONFIG: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: JavaCompatiblePartitioner,
};

const LEVEL_NAMES: Record<number, string> = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' };
const SECRET_LOG_FIELDS = /sasl|password|secret|ssl/i;

function formatLogEntry(entry: LogEntry): string {
  const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry.log;
  const details = Object.entries(extra)
    .filter(([key]) => !SECRET_LOG_FIELDS.test(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `kafkajs ${LEVEL_NAMES[entry.level] ?? entry.level} [${entry.namespace}] ${message}${details ? ` ${details}` : ''}`;
}

/** The bootstrap list as the user wrote it, for messages. */
export function describeBootstrap(bootstrap: string[]): string {
  return bootstrap.join(',');
}
