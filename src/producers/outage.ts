import { rootMessage } from '../kafka/errors.js';
import { pause, within, type Clock } from '../core/waiter.js';

export interface OutageOptions {
  /** Give up once the broker has not acknowledged anything for this long. */
  maxOutageMs: number;
  /** Pause between two attempts at the same batch (kafkajs' own retries run inside each attempt). */
  retryDelayMs?: number;
  clock: Clock;
  /** Ctrl-C during an outage stops the retrying at once: the records still queued are reported as not sent. */
  signal: AbortSignal;
}

/** What a producer tells about outages, for notices and the summary's outage count. */
export interface OutageNotices {
  onOutage?: (reason: string) => void;
  onRecovered?: (outageMs: number) => void;
  /** The outage outlasted maxOutageMs; the send fails with OutageTooLong. */
  onGaveUp?: (outageMs: number) => void;
}

/** Outages the producer rode out (or died of), for the summary. */
export class OutageLog {
  count = 0;
  longestMs = 0;
}

/**
 * Keeps producing through a broker outage (a restart, a network blip): a batch whose send failed for a retriable
 * reason is sent again, unchanged, until the broker acknowledges it or the outage outlasts maxOutageMs.
 *
 * Re-sending is safe only because the same idempotent producer sends the same records again: kafkajs rolls the
 * partition sequence numbers back when a request fails, so the repeat carries the sequence numbers of the first
 * try and the broker drops whatever part of it had already been written. A new producer (a new producer id) would
 * duplicate those records instead.
 */
export function retryThroughOutages<B>(
  send: (batch: B) => Promise<void>,
  options: OutageOptions & OutageNotices,
  log = new OutageLog(),
): (batch: B) => Promise<void> {
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  return async (records) => {
    // kafkajs retries inside the first attempt for several seconds before it fails: the outage began when it started.
    const firstAttemptAt = options.clock.now();
    let outageStartedAt: number | undefined;
    let lastError: unknown;
    const giveUpAt = firstAttemptAt + options.maxOutageMs;
    for (;;) {
      try {
        await within(send(records), {
          timeoutMs: giveUpAt - options.clock.now(),
          // Ctrl-C flushes: a first attempt (the broker answering) is waited for; one repeated through an outage
          // is abandoned at once, as the retrying stops.
          signal: outageStartedAt === undefined ? undefined : options.signal,
          onTimeout: () => new AttemptOutlived(),
        });
        if (outageStartedAt !== undefined) {
          const outageMs = options.clock.now() - outageStartedAt;
          log.longestMs = Math.max(log.longestMs, outageMs);
          options.onRecovered?.(outageMs);
        }
        return;
      } catch (error) {
        const now = options.clock.now();
        if (error instanceof AttemptOutlived) {
          if (outageStartedAt === undefined) log.count++;
          log.longestMs = Math.max(log.longestMs, now - firstAttemptAt);
          options.onGaveUp?.(now - firstAttemptAt);
          throw new OutageTooLong(now - firstAttemptAt, options.maxOutageMs, lastError ?? error);
        }
        if (!isRetriable(error) || options.signal.aborted) throw error;
        lastError = error;
        if (outageStartedAt === undefined) {
          outageStartedAt = firstAttemptAt;
          log.count++;
          options.onOutage?.(rootMessage(error));
        }
        const outageMs = now - outageStartedAt;
        if (outageMs >= options.maxOutageMs) {
          log.longestMs = Math.max(log.longestMs, outageMs);
          options.onGaveUp?.(outageMs);
          throw new OutageTooLong(outageMs, options.maxOutageMs, error);
        }
        await pause(options.clock, retryDelayMs, options.signal);
        if (options.signal.aborted) throw error;
      }
    }
  };
}

/**
 * An attempt still waiting for its acknowledgement when the outage budget ran out: kafkajs' own retries (nested:
 * connect, metadata, produce) can keep one attempt busy well past the budget, and the limit must hold anyway, as
 * must Ctrl-C. An abandoned attempt may still land its records: they are then in the topic without having been
 * reported acknowledged, never the other way round.
 */
class AttemptOutlived extends Error {
  constructor() {
    super('no answer from the broker');
  }
}

/** The broker stayed away longer than the producer may wait. */
export class OutageTooLong extends Error {
  constructor(
    readonly outageMs: number,
    readonly maxOutageMs: number,
    readonly lastError: unknown,
  ) {
    super(
      `no acknowledgement for ${Math.round(outageMs / 1000)} s, more than --max-outage allows (${Math.round(maxOutageMs / 1000)} s); last error: ${rootMessage(lastError)}`,
    );
    this.name = 'OutageTooLong';
  }
}

/** What kafkajs wraps an error in when its own retries ran out (nested retriers wrap it once more). */
const EXHAUSTED_RETRIES = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);

/**
 * Retriable = the broker may take the records later: connection refused or closed, request timed out, no leader
 * yet. When kafkajs gave up after its own retries, the error it wrapped decides. Authentication, authorization and
 * producer-fencing errors are not retriable and end the run at once.
 */
export function isRetriable(error: unknown): boolean {
  let current = error as { name?: string; retriable?: boolean; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && current && EXHAUSTED_RETRIES.has(current.name ?? '') && current.cause; depth++) {
    current = current.cause as typeof current;
  }
  return current?.retriable === true;
}
