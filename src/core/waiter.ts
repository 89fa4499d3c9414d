import { InterruptedError, OperationError } from './errors.js';
import { MAX_TIMER_MS } from './parse.js';

/**
 * The one clock of the program, carried by the Context. Tests and benchmarks inject another (a scaled one shortens
 * the pauses of every wait; a manual one moves time by hand).
 */
export interface Clock {
  /** Epoch milliseconds with sub-millisecond precision (produce paces and stamps records by it). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason (an InterruptedError on Ctrl-C) once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) => realDelay(ms, signal),
};

/** A clock whose sleeps are shortened by `scale` (0.01 = 100× faster); used by tests and benchmarks. */
export function scaledClock(scale: number, base: Clock = systemClock): Clock {
  return { now: base.now, sleep: (ms, signal) => base.sleep(ms * scale, signal) };
}

/**
 * The clock MARKETPLACE_WAIT_SCALE asks for (default 1, the system clock). Tests and benchmarks run the emulator with
 * a time scale and set the same factor here, so waits are shortened rather than skipped.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const scale = Number(env.MARKETPLACE_WAIT_SCALE ?? '1');
  return Number.isFinite(scale) && scale > 0 && scale !== 1 ? scaledClock(scale) : systemClock;
}

/** Sleeps, returning early (instead of throwing) when the signal aborts: for loops that check the signal themselves. */
export async function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  await clock.sleep(ms, signal).catch((error: unknown) => {
    if (!signal?.aborted) throw error;
  });
}

/** Why the signal aborted, as an error to throw: the Context's signal carries an InterruptedError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new InterruptedError();
}

export type Probe<T> = { done: true; value: T } | { done: false; status: string };

export interface WaitOptions {
  /** What is being waited for, for messages ("ksqlDB cluster lksqlc-123 to be PROVISIONED"). */
  what: string;
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (status: string, elapsedMs: number) => void;
  /** Shown with the timeout error, e.g. how to check by hand. */
  hint?: string;
}

/**
 * The one way anything waits: polls `probe` with exponential backoff until it reports done, the deadline passes
 * (OperationError naming what and the last status seen), or the signal aborts (its reason is thrown, also while a
 * probe is in flight). A probe may throw to fail fast.
 */
export async function waitFor<T>(probe: () => Promise<Probe<T>>, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 1.5;
  let lastStatus = 'not checked yet';
  const timedOut = () =>
    new OperationError(
      `timed out after ${Math.round((clock.now() - started) / 1000)} s waiting for ${options.what} (last status: ${lastStatus})`,
      { hint: options.hint ?? 'Run the command again to keep waiting; it resumes where it stopped.' },
    );
  for (;;) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    // A check in flight at the deadline brings its answer (its calls carry deadlines of their own: requestTimeout),
    // so the timeout can say what it saw; Ctrl-C ends it at once.
    const result = await within(probe(), {
      timeoutMs: Number.POSITIVE_INFINITY,
      signal: options.signal,
      onTimeout: () => timedOut(),
    });
    if (result.done) return result.value;
    lastStatus = result.status;
    const now = clock.now();
    options.onProgress?.(lastStatus, now - started);
    if (now >= deadline) throw timedOut();
    await clock.sleep(Math.min(delay, Math.max(0, deadline - now)), options.signal);
    delay = Math.min(maxDelay, delay * factor);
  }
}

export interface DeadlineOptions {
  /** How long the call may take, from now. */
  timeoutMs: number;
  /** The error for a missed deadline: one line naming what did not answer, and what to do. */
  onTimeout: () => Error;
  signal?: AbortSignal;
}

/** How long a call made after Ctrl-C may take: that is clean-up (closing a push query, leaving a group). */
export const AFTER_INTERRUPT_MS = 1_000;

/**
 * One call (a request, a connect) bounded by its deadline and by the signal: whichever comes first settles the
 * result, so a server that accepts a connection and never answers cannot hold a command past its deadline or past
 * Ctrl-C. The call itself is abandoned, not stopped: its owner closes whatever it holds (see `settleWithin`).
 * A call started after the signal aborted is the command cleaning up: it gets AFTER_INTERRUPT_MS, not the signal.
 * Deadlines are real time: a scaled clock shortens pauses, never how long a server is given to answer.
 */
export async function within<T>(work: Promise<T>, options: DeadlineOptions): Promise<T> {
  work.catch(() => undefined);
  const { signal } = options;
  if (signal?.aborted) {
    // Past its moment it is the interruption that ends it, not a deadline of its own.
    const interrupted = abortReason(signal);
    return within(work, { timeoutMs: Math.min(options.timeoutMs, AFTER_INTERRUPT_MS), onTimeout: () => interrupted });
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cutOff = new Promise<never>((_, reject) => {
    // A deadline beyond what a timer can hold (an endless follow) is no deadline.
    if (options.timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => reject(options.onTimeout()), Math.max(0, options.timeoutMs));
    }
    if (signal) {
      onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, cutOff]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Waits for a clean-up (a disconnect, a close) for at most `timeoutMs`, then goes on without it: kafkajs, for one,
 * waits for the answers to requests in flight before it disconnects, which a silent server never gives.
 */
export async function settleWithin(work: Promise<unknown>, timeoutMs = 1_000): Promise<void> {
  await within(work, { timeoutMs, onTimeout: () => new Error('clean-up did not finish') }).catch(() => undefined);
}

/** A real delay for the system clock: a timer, cleared on abort. */
function realDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
