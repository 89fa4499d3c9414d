import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { OutageLog, OutageTooLong, isRetriable, retryThroughOutages } from '../../src/producers/outage.js';
import type { TextRecord } from '../helpers/records.js';
import type { Clock } from '../../src/core/waiter.js';

// kafkajs' type declarations list fewer constructor arguments than its classes take at run time.
type LooseErrorClass = new (...args: unknown[]) => Error;
const KafkaJSConnectionError = kafkajs.KafkaJSConnectionError as unknown as LooseErrorClass;
const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as LooseErrorClass;
const KafkaJSNumberOfRetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded as unknown as LooseErrorClass;
const KafkaJSProtocolError = kafkajs.KafkaJSProtocolError as unknown as LooseErrorClass;
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as LooseErrorClass;

/** A clock whose sleeps only move time forward, so an outage of minutes takes no wall time. */
function manualClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** kafkajs' shapes of "my own retries ran out" around a refused connection, as a producer sees them. */
function refused(): Error {
  const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  const exhausted = new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 4800 });
  return new KafkaJSNonRetriableError(exhausted, { cause: connection });
}

const batch: TextRecord[] = [{ topic: 'job_created', key: '1', value: '{}', timestamp: 0 }];

describe('isRetriable', () => {
  it('sees through the wrappers kafkajs puts around a retriable error once its own retries ran out', () => {
    expect(isRetriable(refused())).toBe(true);
    expect(
      isRetriable(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('closed'), { retryCount: 5, retryTime: 1 }),
      ),
    ).toBe(true);
    expect(
      isRetriable(
        new KafkaJSProtocolError({ message: 'no leader', type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true }),
      ),
    ).toBe(true);
  });

  it('does not retry authentication, fencing or programming errors', () => {
    expect(isRetriable(new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed'))).toBe(false);
    expect(
      isRetriable(
        new KafkaJSProtocolError({
          message: 'fenced',
          type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
          code: 45,
          retriable: false,
        }),
      ),
    ).toBe(false);
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
  });
});

describe('retryThroughOutages', () => {
  it('re-sends the same batch until the broker is back, and reports the outage once', async () => {
    const clock = manualClock();
    const sent: TextRecord[][] = [];
    let failuresLeft = 4;
    const events: string[] = [];
    const log = new OutageLog();
    const send = retryThroughOutages(
      async (records: TextRecord[]) => {
        sent.push(records);
        await clock.sleep(3_000, new AbortController().signal); // each kafkajs attempt takes a while
        if (failuresLeft-- > 0) throw refused();
      },
      {
        maxOutageMs: 60_000,
        clock,
        signal: new AbortController().signal,
        onOutage: (reason) => events.push(`outage: ${reason}`),
        onRecovered: (ms) => events.push(`back after ${ms}`),
      },
      log,
    );
    await send(batch);
    expect(sent).toHaveLength(5);
    expect(sent.every((records) => records === batch)).toBe(true);
    expect(events).toEqual([
      'outage: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      `back after ${5 * 3_000 + 4 * 1_000}`,
    ]);
    expect(log).toMatchObject({ count: 1, longestMs: 19_000 });
  });

  it('gives up with OutageTooLong once the outage outlasts the limit', async () => {
    const clock = manualClock();
    const send = retryThroughOutages(
      async () => {
        await clock.sleep(3_000, new AbortController().signal);
        throw refused();
      },
      { maxOutageMs: 10_000, clock, signal: new AbortController().signal },
    );
    const error = await send(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutageTooLong);
    expect((error as OutageTooLong).message).toMatch(
      /^no acknowledgement for 1[0-9] s, more than --max-outage allows \(10 s\); last error: Connection error: connect ECONNREFUSED/,
    );
  });

  it('fails at once on a non-retriable error, and stops retrying when interrupted', async () => {
    const clock = manualClock();
    const denied = new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed');
    let attempts = 0;
    const auth = retryThroughOutages(
      async () => {
        attempts++;
        throw denied;
      },
      { maxOutageMs: 60_000, clock, signal: new AbortController().signal },
    );
    await expect(auth(batch)).rejects.toBe(denied);
    expect(attempts).toBe(1);

    const controller = new AbortController();
    attempts = 0;
    const interrupted = retryThroughOutages(
      async () => {
        attempts++;
        if (attempts === 2) controller.abort();
        throw refused();
      },
      { maxOutageMs: 60_000, clock, signal: controller.signal },
    );
    await expect(interrupted(batch)).rejects.toThrow(/ECONNREFUSED/);
    expect(attempts).toBe(2);
  });

  it('holds the limit even while one attempt hangs inside kafkajs', async () => {
    const realClock: Clock = {
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    const log = new OutageLog();
    const send = retryThroughOutages(
      () => new Promise<void>(() => undefined),
      { maxOutageMs: 200, clock: realClock, signal: new AbortController().signal },
      log,
    );
    const started = Date.now();
    const error = await send(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutageTooLong);
    expect((error as Error).message).toMatch(/last error: no answer from the broker$/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(log.count).toBe(1);
  });

  it('Ctrl-C abandons an attempt repeated through an outage at once, and still waits for a first attempt', async () => {
    const realClock: Clock = {
      now: () => Date.now(),
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        }),
    };
    const controller = new AbortController();
    let attempts = 0;
    let retrying: () => void = () => undefined;
    const retried = new Promise<void>((resolve) => (retrying = resolve));
    const stuck = retryThroughOutages(
      async () => {
        attempts++;
        if (attempts === 1) throw refused();
        retrying();
        await new Promise<void>(() => undefined); // the broker never answers the repeat
      },
      { maxOutageMs: 60_000, retryDelayMs: 10, clock: realClock, signal: controller.signal },
    );
    const outcome = stuck(batch).catch((e: unknown) => e);
    await retried;
    const interruptedAt = Date.now();
    controller.abort(new Error('interrupted'));
    expect(await outcome).toMatchObject({ message: 'interrupted' });
    expect(Date.now() - interruptedAt).toBeLessThan(1_000);

    // Ctrl-C flushes: a first attempt in flight at Ctrl-C, to a broker that answers, is waited for, not cut off.
    const flushing = new AbortController();
    let sending: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (sending = resolve));
    const flush = retryThroughOutages(
      async () => {
        sending();
        await realClock.sleep(200);
      },
      { maxOutageMs: 60_000, clock: realClock, signal: flushing.signal },
    );
    const flushed = flush(batch);
    await sent;
    flushing.abort(new Error('interrupted'));
    await expect(flushed).resolves.toBeUndefined();
  });
});
