import { OperationError } from './errors.js';

/**
 * The one clock of the program, carried by the Context. Tests and benchmarks inject another (a scaled one shortens
 * the pauses of every wait; a manual one moves time by hand).
 */
export interface Clock {
  /** Epoch milliseconds with sub-millisecond precision (produce paces and stamps records by it). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
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
 * (OperationError naming what and the last status seen), or the signal aborts. A probe may throw to fail fast.
 */
export async function waitFor<T>(probe: () => Promise<Probe<T>>, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 1.5;
  let lastStatus = 'not checked yet';
  for (;;) {
    options.signal?.throwIfAborted();
    const result = await probe();
    if (result.done) return result.value;
    lastStatus = result.status;
    const now = clock.now();
    options.onProgress?.(lastStatus, now - started);
    if (now >= deadline) {
      throw new OperationError(
        `timed out after ${Math.round((now - started) / 1000)} s waiting for ${options.what} (last status: ${lastStatus})`,
        { hint: options.hint ?? 'Run the command again to keep waiting; it resumes where it stopped.' },
      );
    }
    await clock.sleep(Math.min(delay, Math.max(0, deadline - now)), options.signal);
    delay = Math.min(maxDelay, delay * factor);
  }
}
