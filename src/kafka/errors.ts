import { OperationError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';

export interface KafkaErrorContext {
  target: 'cloud' | 'local';
  bootstrap: string;
}

/** Node's wording for a chain that ends in an unknown CA (self-signed, missing issuer, unverifiable). */
const UNTRUSTED_CERTIFICATE =
  /self[- ]signed certificate|unable to (get|verify) (local )?issuer certificate|unable to verify the first certificate/i;

/** Turns a kafkajs failure into a one-line OperationError with what to do about it. */
export function kafkaOperationError(error: unknown, what: string, context: KafkaErrorContext): OperationError {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = rootMessage(error);
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|authenticat/i.test(message)) {
    return new OperationError(`Kafka at ${context.bootstrap} rejected the credentials while ${what}: ${message}`, {
      hint:
        context.target === 'cloud'
          ? 'The cluster API key may be deleted or not yet propagated; run `marketplace up` again to recreate it.'
          : 'Check the SASL user and password of the local stack (`marketplace local status`).',
      cause: error,
    });
  }
  if (UNTRUSTED_CERTIFICATE.test(message)) {
    return new OperationError(
      `Kafka at ${context.bootstrap} presented a certificate this machine does not trust while ${what}: ${message}`,
      {
        hint: "If a TLS-intercepting proxy or a private CA signs it, set kafkaCaFile (MARKETPLACE_KAFKA_CA_FILE) to that CA's PEM file; otherwise check the bootstrap address.",
        cause: error,
      },
    );
  }
  return new OperationError(`cannot reach Kafka at ${context.bootstrap} while ${what}: ${message}`, {
    hint:
      context.target === 'local'
        ? 'Start the local stack with `marketplace local start` (check with `marketplace local status`), or pass --bootstrap-servers.'
        : 'Check the network, bootstrapServers if you set it, and that the cluster from `marketplace up` still exists (`marketplace status`).',
    cause: error,
  });
}

/**
 * A broker that took a connection but did not answer in time (a wrong port, an overloaded or hung broker). `longer`
 * names the setting that gives it more time.
 */
export function connectionTimeoutError(
  what: string,
  timeoutMs: number,
  context: KafkaErrorContext,
  longer = 'requestTimeout (MARKETPLACE_REQUEST_TIMEOUT)',
): OperationError {
  const check =
    context.target === 'local'
      ? 'Check that the local stack runs (`marketplace local status`) and that bootstrapServers points at its broker'
      : 'Check the network, and bootstrapServers if you set it';
  return new OperationError(
    `Kafka at ${context.bootstrap} gave no answer within ${formatDuration(timeoutMs)} while ${what}`,
    { hint: `${check}; ${longer} gives a slow broker longer.` },
  );
}

/** The innermost message of an error kafkajs wrapped (retries exhausted → connection error → socket error). */
export function rootMessage(error: unknown): string {
  let current = error as { message?: string; originalError?: unknown; cause?: unknown } | undefined;
  let message = current?.message ?? String(error);
  // kafkajs wraps the socket error: KafkaJSNumberOfRetriesExceeded → KafkaJSConnectionError → Error
  for (let depth = 0; depth < 5 && current; depth++) {
    const inner = (current.originalError ?? current.cause) as typeof current | undefined;
    if (!inner?.message) break;
    message = inner.message;
    current = inner;
  }
  return message;
}

/**
 * Broker answers that mean "not ready yet": a topic or partition still propagating from the controller, a leader
 * taking a partition on (NOT_LEADER_FOR_PARTITION is kafkajs' name for NOT_LEADER_OR_FOLLOWER), a group or
 * transaction coordinator whose internal topic a seconds-old broker is still creating or loading.
 */
const NOT_READY_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
  'BROKER_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_ENOUGH_REPLICAS',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'OFFSET_NOT_AVAILABLE',
]);

/** kafkajs errors that say its metadata cache has no entry (yet) for a topic or partition it was asked about. */
const NOT_READY_NAMES = new Set([
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * Why a kafkajs failure only means "not ready yet" (a status for the wait), or undefined for a real failure.
 *
 * Besides the broker's own answers, kafkajs has paths where a missing metadata entry becomes a TypeError:
 * fetchTopicOffsets and fetchTopicOffsetsByTimestamp read the partitions of ListOffsets answers that are empty
 * when another call on the same client replaced its metadata cache in between (fetchTopicMetadata of a topic the
 * cache lacks keeps only that topic), and findLeaderForPartitions throws "Invalid partition metadata" for a
 * partition listed without a leader. Those come from kafkajs' own source, so only such TypeErrors count.
 */
export function notReadyYet(error: unknown): string | undefined {
  let current = error as KafkaLikeError | undefined;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current.type && NOT_READY_TYPES.has(current.type)) return current.type;
    if (current.name && NOT_READY_NAMES.has(current.name)) return current.name;
    const { name, message, stack } = current;
    if (name === 'KafkaJSError' && message === 'Invalid partition metadata') return 'partition without a leader';
    if (name === 'TypeError' && KAFKAJS_SOURCE.test(stack ?? '')) return 'topic metadata not loaded yet';
    current = (current.originalError ?? current.cause ?? current.errors?.[0]) as KafkaLikeError | undefined;
  }
  return undefined;
}

const KAFKAJS_SOURCE = /[/\\]kafkajs[/\\]src[/\\]/;

interface KafkaLikeError {
  name?: string;
  type?: string;
  message?: string;
  stack?: string;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}
