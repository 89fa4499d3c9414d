import { rootMessage } from '../kafka/errors.js';
import type { KafkaTarget } from '../kafka/client.js';
import type { Compression } from '../kafka/producer.js';
import type { LaneAck } from './lane.js';
import type { WordPools } from './population.js';
import type { InputTopic } from './records.js';

/** Partition count of each topic produced to. */
export type TopicPartitions = Partial<Record<InputTopic, number>>;

/** What a producer thread is started with: its topics, and everything needed to generate the same jobs as its peers. */
export interface LaneThreadData {
  target: KafkaTarget;
  clientId: string;
  verbose: boolean;
  compression: Compression;
  topics: InputTopic[];
  topicPrefix: string;
  seed: number;
  acceptRatio: number;
  maxOrderDelayMs: number;
  trucks: number;
  truckIntervalMs: number;
  /** Broker outage budget (--max-outage) and kafkajs retries per attempt, as on the main thread. */
  maxOutageMs: number;
  retries: number;
}

export type LaneRequest =
  /** The word pools come with connect: the thread starts (and loads its modules) while the main thread makes them. */
  | { type: 'connect'; pools: WordPools; partitions: TopicPartitions }
  | { type: 'jobs'; times: Float64Array; now: number }
  | { type: 'finish'; flushOrders: boolean }
  /** Ctrl-C: stop re-sending through a broker outage. */
  | { type: 'abort' }
  | { type: 'close' };

/** Every progress reply carries the lane's queue length and the jobs it has taken in, for the run loop's backlog. */
export type LaneReply =
  | { type: 'connected' }
  | { type: 'connect-failed'; error: ThreadError }
  | { type: 'progress'; queued: number; jobsSeen: number }
  | { type: 'sent'; count: number; queued: number; jobsSeen: number }
  | { type: 'acked'; ack: LaneAck; queued: number; jobsSeen: number }
  | { type: 'failed'; error: ThreadError; count: number }
  | { type: 'outage'; reason: string }
  | { type: 'recovered'; outageMs: number }
  | { type: 'gave-up'; outageMs: number }
  | { type: 'finished' }
  | { type: 'closed' }
  | { type: 'log'; line: string };

/** An error as plain data: the kafkajs error name, Node's error code and the innermost message. */
export interface ThreadError {
  name: string;
  code?: string;
  message: string;
}

export function describeError(error: unknown): ThreadError {
  const { name, code } = (error ?? {}) as { name?: string; code?: unknown };
  return { name: name ?? 'Error', ...(typeof code === 'string' ? { code } : {}), message: rootMessage(error) };
}

/** The error a producer thread reported, rebuilt with the kafkajs error name it had. */
export class LaneThreadError extends Error {
  readonly code?: string;

  constructor(error: ThreadError) {
    super(error.message);
    this.name = error.name;
    this.code = error.code;
  }
}
