import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/producers/token-bucket.js';

/** A hand-driven clock: the bucket never reads wall time in these tests. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('grants exactly rate × elapsed tokens, whatever the tick spacing', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 2000, now: clock.now });
    const ticks = [1, 7, 0.3, 13, 2.5, 50, 4];
    let granted = 0;
    const perWindow: number[] = [];
    let windowGranted = 0;
    let windowStart = clock.now();
    for (let i = 0; i < 100_000; i++) {
      clock.advance(ticks[i % ticks.length]!);
      const got = bucket.take(Number.MAX_SAFE_INTEGER);
      granted += got;
      windowGranted += got;
      if (clock.now() - windowStart >= 10_000) {
        perWindow.push((windowGranted * 1000) / (clock.now() - windowStart));
        windowGranted = 0;
        windowStart = clock.now();
      }
    }
    const elapsed = clock.now() - 1_000_000;
    expect(Math.abs(granted - (elapsed * 2000) / 1000)).toBeLessThanOrEqual(1);
    expect(perWindow.length).toBeGreaterThan(10);
    for (const rate of perWindow) expect(Math.abs(rate - 2000) / 2000).toBeLessThan(0.01);
  });

  it('never grants more than asked and keeps the remainder for later', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 100, maxCatchUp: 200, now: clock.now });
    clock.advance(1000);
    expect(bucket.take(30)).toBe(30);
    expect(bucket.available()).toBe(70);
    expect(bucket.take(1000)).toBe(70);
    expect(bucket.take(1)).toBe(0);
  });

  it('catches up after a short stall but forgives what is older than the catch-up bound', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, maxCatchUp: 20, now: clock.now });
    clock.advance(1500);
    expect(bucket.take(Infinity)).toBe(15); // short stall: fully caught up
    clock.advance(60_000);
    expect(bucket.take(Infinity)).toBe(20); // a minute-long stall owes 600; only 20 are caught up
    clock.advance(1000);
    expect(bucket.take(Infinity)).toBe(10); // and the rate carries on from there, not from the stall
  });

  it('catches up at most 2 s by default, so a long stall never turns into a long burst', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 20_000, now: clock.now });
    clock.advance(3000);
    expect(bucket.take(Infinity)).toBe(40_000);
    clock.advance(10);
    expect(bucket.take(Infinity)).toBe(200);
    const slow = new TokenBucket({ ratePerSecond: 0.5, now: clock.now });
    clock.advance(60_000);
    expect(slow.take(Infinity)).toBe(2); // never less than 2 tokens, even at low rates
  });

  it('tells when each granted token fell due, on the schedule shifted past a forgiven stall', () => {
    const clock = manualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 10, maxCatchUp: 3, now: clock.now });
    clock.advance(350);
    const first = bucket.granted;
    expect(bucket.take(Infinity)).toBe(3);
    expect([0, 1, 2].map((i) => bucket.dueTime(first + i))).toEqual([100, 200, 300]);
    clock.advance(1000); // 10 tokens due, 3 caught up: the schedule moves 700 ms later
    const next = bucket.granted;
    expect(bucket.take(Infinity)).toBe(3);
    expect([0, 1, 2].map((i) => bucket.dueTime(next + i))).toEqual([1100, 1200, 1300]);
    for (const i of [0, 1, 2]) expect(bucket.dueTime(next + i)).toBeLessThanOrEqual(clock.now());
  });

  it('says how long until the next token', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 4, now: clock.now });
    expect(bucket.msUntilNext()).toBe(250);
    clock.advance(100);
    expect(bucket.msUntilNext()).toBe(150);
    clock.advance(150);
    expect(bucket.msUntilNext()).toBe(0);
    bucket.take(1);
    expect(bucket.msUntilNext()).toBe(250);
  });

  it('handles fractional rates below one per second', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 0.5, now: clock.now });
    clock.advance(1999);
    expect(bucket.take(5)).toBe(0);
    clock.advance(1);
    expect(bucket.take(5)).toBe(1);
  });
});
