/**
 * A small, fast, seedable PRNG (sfc32). faker is used only to build the word pools at start-up; per-record
 * choices come from here because faker costs tens of microseconds per call, too slow for 20,000 jobs/s.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const mixed = splitMix32(seed >>> 0);
    this.a = mixed[0]!;
    this.b = mixed[1]!;
    this.c = mixed[2]!;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform real in [min, max). */
  real(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** Uniform integer in [0, length): the index `pick` would choose. */
  index(length: number): number {
    return Math.floor(this.next() * length);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.index(items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** A child generator with its own stream, so adding draws in one part never shifts another. */
  fork(label: number): Random {
    return new Random((this.uint32() ^ Math.imul(label + 1, 0x9e3779b1)) >>> 0);
  }
}

function splitMix32(seed: number): number[] {
  const out: number[] = [];
  let state = seed;
  for (let i = 0; i < 3; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out.push((z ^ (z >>> 16)) >>> 0);
  }
  return out;
}

/** A seed for runs without --seed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
