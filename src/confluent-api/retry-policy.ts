/** When and how long to wait before another attempt: exponential backoff with full jitter, server hints first. */

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  random: Math.random,
};

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]. `attempt` counts from 0. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(policy.random() * ceiling);
}

/**
 * The server's own wait hint in ms: Retry-After (seconds or an HTTP date), else Confluent's X-RateLimit-Reset,
 * which is relative seconds, not an epoch. undefined when neither is usable.
 */
export function serverWaitHintMs(headers: Record<string, string | undefined>, nowMs: number): number | undefined {
  const retryAfter = headers['retry-after']?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = headers['x-ratelimit-reset']?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) return Math.round(Number(reset) * 1000);
  return undefined;
}

/** The delay before the next attempt: never shorter than the server asked for, jittered so clients spread out. */
export function nextDelayMs(attempt: number, policy: RetryPolicy, serverHintMs: number | undefined): number {
  const jittered = backoffDelayMs(attempt, policy);
  if (serverHintMs === undefined) return jittered;
  return serverHintMs + Math.floor(policy.random() * Math.min(policy.baseDelayMs, 1000));
}
