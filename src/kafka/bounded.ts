import type { Admin, Consumer, Producer } from 'kafkajs';
import { settleWithin, within } from '../core/waiter.js';

/** What bounds every call of a kafkajs client the commands use. */
export interface KafkaCallBounds {
  /** How long one call may take: requestTimeout (produce: --connect-timeout while it connects). */
  timeoutMs: number;
  /** Ctrl-C: a call in flight is abandoned and the signal's reason thrown. */
  signal?: AbortSignal;
  /** The error for a call that got no answer in time, given what the call was doing ("listing topics"). */
  onTimeout: (what: string) => Error;
}

/**
 * Calls bounded by their owner, not here: the consumer's fetch loop runs as long as the consumer, and a send rides
 * out a broker outage for as long as produce's --max-outage allows (kafkajs retries inside it).
 */
const OWNER_BOUNDED = new Set<string | symbol>(['run', 'send', 'sendBatch', 'transaction']);

/** How long a disconnect may take before it is left behind: less once the user pressed Ctrl-C. */
const DISCONNECT_MS = 5_000;
const DISCONNECT_INTERRUPTED_MS = 1_000;

/** How each call is named in messages ("… did not answer while listing topics"). */
const DOING: Record<string, string> = {
  connect: 'connecting',
  listTopics: 'listing topics',
  createTopics: 'creating topics',
  deleteTopics: 'deleting topics',
  fetchTopicMetadata: 'reading topic metadata',
  fetchTopicOffsets: 'reading topic offsets',
  describeCluster: 'describing the cluster',
  deleteGroups: 'deleting a consumer group',
  subscribe: 'subscribing',
  send: 'sending records',
  sendBatch: 'sending records',
};

/**
 * The client with every call bounded by the deadline and the signal: a broker that accepts connections and never
 * answers fails a call at its deadline, and Ctrl-C ends one at once, where kafkajs alone would wait for its own
 * request timeout and retries. A disconnect waits a moment at most: kafkajs waits for the answers in flight first.
 */
export function bounded<T extends Admin | Producer | Consumer>(client: T, bounds: KafkaCallBounds): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || OWNER_BOUNDED.has(property)) return value;
      const call = value as (...args: unknown[]) => unknown;
      if (property === 'disconnect') {
        const limit = bounds.signal?.aborted ? DISCONNECT_INTERRUPTED_MS : Math.min(bounds.timeoutMs, DISCONNECT_MS);
        return () => settleWithin(Promise.resolve(call.apply(target, [])), limit);
      }
      return (...args: unknown[]) => {
        const result = call.apply(target, args);
        if (!isPromise(result)) return result;
        return within(result, {
          timeoutMs: bounds.timeoutMs,
          signal: bounds.signal,
          onTimeout: () => bounds.onTimeout(DOING[String(property)] ?? `calling ${String(property)}`),
        });
      };
    },
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
