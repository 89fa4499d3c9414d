/**
 * Fault injection: each rule says what goes wrong, for which calls, how often. `when: 'after'` applies the fault
 * after the request was handled, which is how an ambiguous failure (the create happened, the answer was lost)
 * looks to a client.
 */
export interface FaultRule {
  kind: 'throttle' | 'server-error' | 'drop' | 'delay';
  when?: 'before' | 'after';
  /** Chance per matching call, 0..1; default 1. */
  probability?: number;
  /** Stop after this many injections. */
  count?: number;
  /** Only calls with this method. */
  method?: string;
  /** Only calls whose path starts with this (or matches, when it begins with ^). */
  path?: string;
  /** throttle: Retry-After seconds (0 = header omitted). */
  retryAfterSeconds?: number;
  /** throttle: send X-RateLimit-Reset (relative seconds) instead of Retry-After. */
  rateLimitResetSeconds?: number;
  /** server-error: status, default 500. */
  status?: number;
  /** delay: milliseconds. */
  delayMs?: number;
}

export interface FaultSettings {
  rules: FaultRule[];
  /** Seed for the pseudo-random draws, so a run is repeatable. */
  seed?: number;
}

interface ActiveRule extends FaultRule {
  injected: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private random: () => number = Math.random;

  constructor(settings?: FaultSettings) {
    if (settings) this.set(settings);
  }

  set(settings: FaultSettings): void {
    this.rules = settings.rules.map((rule) => ({ ...rule, injected: 0 }));
    this.random = settings.seed === undefined ? Math.random : mulberry32(settings.seed);
  }

  clear(): void {
    this.rules = [];
  }

  describe(): { rules: (FaultRule & { injected: number })[] } {
    return { rules: this.rules.map((rule) => ({ ...rule })) };
  }

  /** The faults that fire for this call at this moment, in rule order (at most one of each kind). */
  draw(method: string, pathname: string, when: 'before' | 'after'): FaultRule[] {
    const fired: FaultRule[] = [];
    for (const rule of this.rules) {
      if ((rule.when ?? 'before') !== when) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (
        rule.path &&
        !(rule.path.startsWith('^') ? new RegExp(rule.path).test(pathname) : pathname.startsWith(rule.path))
      )
        continue;
      if (rule.count !== undefined && rule.injected >= rule.count) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      if (fired.some((other) => other.kind === rule.kind)) continue;
      rule.injected++;
      fired.push(rule);
    }
    return fired;
  }
}

export function validateFaultSettings(value: unknown): FaultSettings {
  const record = value as FaultSettings;
  if (!record || typeof record !== 'object' || !Array.isArray(record.rules)) throw new Error('expected {"rules":[…]}');
  for (const rule of record.rules) {
    if (!['throttle', 'server-error', 'drop', 'delay'].includes(rule.kind))
      throw new Error(`unknown fault kind ${String(rule.kind)}`);
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1))
      throw new Error('probability must be 0..1');
  }
  return record;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same fault sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
