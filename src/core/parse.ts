import { UserError } from './errors.js';

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

/** "30s", "5m", "1h" or plain seconds → milliseconds. */
export function duration(flag: string) {
  return (value: string): number => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
    const amount = match ? Number(match[1]) : NaN;
    if (!match || !(amount > 0)) {
      throw new UserError(`${flag} must be a duration such as 30s, 5m or 1h; got "${value}"`, {
        hint: `Example: ${flag} 30s`,
      });
    }
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
    return Math.round(amount * unit);
  };
}

export function oneOf<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new UserError(`${flag} must be one of ${choices.join(', ')}; got "${value}"`, {
        hint: `Example: ${flag} ${choices[0]}`,
      });
    }
    return value as T;
  };
}
