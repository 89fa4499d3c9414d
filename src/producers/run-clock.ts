import { setTimeout as delay } from 'node:timers/promises';

export interface RunClock {
  /** Epoch milliseconds with sub-millisecond precision. */
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const preciseClock: RunClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, { signal });
    } catch {
      // woken by the abort signal: the loop checks it next
    }
  },
};
