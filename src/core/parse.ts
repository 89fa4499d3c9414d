import { UserError } from './errors.js';
import { closest, didYouMean } from './suggest.js';

/** Option parsers for commander: each turns bad input into a one-line UserError naming the flag. */

export function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      throw new UserError(`${flag} must be a whole number greater than 0; got "${value}"`, {
        hint: `Example: ${flag} 100`,
      });
    }
    return n;
  };
}

export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new UserError(`${flag} must be a number greater than 0; got "${value}"`, { hint: `Example: ${flag} 50` });
    }
    return n;
  };
}

/** The fastest paced rate the producers keep up (faster is `produce --rate max`). */
export const MAX_JOB_RATE = 1_000_000;

/** A rate in jobs per second, 0 < n <= MAX_JOB_RATE; `orMax` adds "max" to the message (produce accepts it). */
export function jobRate(flag: string, options: { orMax?: boolean; example?: number } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_JOB_RATE) {
      const choices = `(0 < n ≤ ${MAX_JOB_RATE})${options.orMax ? ' or "max"' : ''}`;
      throw new UserError(`${flag} must be a number of jobs per second ${choices}; got "${value}"`, {
        hint: `Example: ${flag} ${options.example ?? 100}`,
      });
    }
    return n;
  };
}

export function fraction(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new UserError(`${flag} must be a number from 0 to 1; got "${value}"`, { hint: `Example: ${flag} 0.7` });
    }
    return n;
  };
}

/** The longest delay a Node timer takes (2^31-1 ms); a longer one fires at once with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** "30s", "500ms", "5m", "1h" or plain seconds → milliseconds; undefined when it is not a positive duration. */
export function durationMs(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Math.round(amount * unit);
}

/** A duration for messages, in the notation the flags take: "500 ms", "2 s", "1.5 s", "90 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** "30s", "5m", "1h" or plain seconds → milliseconds, within what a timer can wait. */
export function duration(flag: string) {
  return (value: string): number => {
    const ms = durationMs(value);
    if (ms === undefined) {
      throw new UserError(`${flag} must be a duration such as 30s, 5m or 1h; got "${value}"`, {
        hint: `Example: ${flag} 30s`,
      });
    }
    if (ms < 1 || ms > MAX_TIMER_MS) {
      throw new UserError(`${flag} must be from 1ms to 24 days (${MAX_TIMER_MS} ms); got "${value}"`, {
        hint: `Example: ${flag} 30s`,
      });
    }
    return ms;
  };
}

/**
 * One of a fixed set of words. A near miss names the closest word, and the example uses it; `example` shapes the
 * example for a positional argument (default: `<flag> <choice>`).
 */
export function oneOf<T extends string>(
  flag: string,
  choices: readonly T[],
  example: (choice: T) => string = (choice) => `${flag} ${choice}`,
) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      const near = closest(value, choices) as T | undefined;
      throw new UserError(`${flag} must be one of ${choices.join(', ')}; got "${value}"${didYouMean(value, choices)}`, {
        hint: `Example: ${example(near ?? choices[0]!)}`,
      });
    }
    return value as T;
  };
}
