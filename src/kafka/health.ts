import { OperationError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import { abortReason } from '../core/waiter.js';

export type KafkaHealth = { healthy: true } | { healthy: false; status: string };

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/**
 * The broker answers a metadata request on the plaintext listener within `timeoutMs` (default 3 s); a server that
 * takes the connection and says nothing is not healthy. Ctrl-C (the signal) ends the check, throwing its reason.
 */
export async function kafkaHealth(
  bootstrap: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<KafkaHealth> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  const { createKafka } = await import('./client.js');
  const timeoutMs = options.timeoutMs ?? 3_000;
  const admin = createKafka({
    target: 'local',
    bootstrap: [bootstrap],
    clientId: 'marketplace-local-health',
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: timeoutMs,
    retries: 0,
    signal: options.signal,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? { healthy: true } : { healthy: false, status: 'no brokers in metadata' };
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    // Our own timeout (a server that took the connection and said nothing) names the broker already: say less.
    const silent = error instanceof OperationError;
    return { healthy: false, status: silent ? `no answer within ${formatDuration(timeoutMs)}` : describe(error) };
  } finally {
    await admin.disconnect();
  }
}
