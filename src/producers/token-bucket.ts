export interface TokenBucketOptions {
  /** Tokens per second. */
  ratePerSecond: number;
  /**
   * The most tokens that may be owed after a stall (GC pause, slow broker). Up to this many are caught up at once;
   * anything older is forgiven, so a long stall does not turn into a long burst. Default: 2 s worth, at least 2.
   */
  maxCatchUp?: number;
  now: () => number;
}

const DEFAULT_CATCH_UP_SECONDS = 2;

/**
 * Rate control by schedule: token n becomes available at start + n / rate. Counting from a fixed origin (instead
 * of adding fractional refills per tick) keeps the long-run rate exact no matter how irregular the ticks are.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly maxCatchUp: number;
  private readonly now: () => number;
  private origin: number;
  private taken = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.ratePerSecond = options.ratePerSecond;
    this.maxCatchUp = Math.max(
      1,
      Math.floor(options.maxCatchUp ?? Math.max(2, options.ratePerSecond * DEFAULT_CATCH_UP_SECONDS)),
    );
    this.now = options.now;
    this.origin = this.now();
  }

  /** Tokens that may be spent at time `at` (default: now). */
  available(at = this.now()): number {
    const due = Math.floor(((at - this.origin) * this.ratePerSecond) / 1000);
    const owed = due - this.taken;
    if (owed > this.maxCatchUp) {
      // Forgive the excess by moving the origin forward, as if the stall had not happened.
      this.origin += ((owed - this.maxCatchUp) * 1000) / this.ratePerSecond;
      return this.maxCatchUp;
    }
    return Math.max(0, owed);
  }

  /** Takes up to `wanted` tokens and returns how many were granted. */
  take(wanted: number, at = this.now()): number {
    const granted = Math.min(wanted, this.available(at));
    this.taken += granted;
    return granted;
  }

  /** Milliseconds until the next token is due (0 when one is available now). */
  msUntilNext(): number {
    const nextAt = this.origin + ((this.taken + 1) * 1000) / this.ratePerSecond;
    return Math.max(0, nextAt - this.now());
  }

  /**
   * When token `n` (0-based, counting every token granted so far) fell due. Tokens granted after a forgiven stall
   * fall due on the shifted schedule.
   */
  dueTime(n: number): number {
    return this.origin + ((n + 1) * 1000) / this.ratePerSecond;
  }

  /** Total tokens handed out. */
  get granted(): number {
    return this.taken;
  }
}
