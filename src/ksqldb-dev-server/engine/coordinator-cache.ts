import { createRequire } from 'node:module';

/**
 * kafkajs asks the cluster for the transaction or group coordinator before every transactional request (AddPartitions,
 * AddOffsets, TxnOffsetCommit, EndTxn), which doubles the round trips of each of a query's transactions. For the ids
 * registered here (a persistent query's transactional id, which is also its consumer group id) the answer is kept
 * for a few seconds per client; a moved coordinator is picked up when that runs out, within kafkajs' retries.
 */
const TTL_MS = 5_000;
const cachedIds = new Set<string>();
let installed = false;

interface Lookup {
  groupId: string;
  coordinatorType?: number;
}
type FindCoordinator = (this: object, lookup: Lookup) => Promise<unknown>;

export function cacheCoordinatorLookups(id: string): void {
  cachedIds.add(id);
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const Cluster = require('kafkajs/src/cluster/index.js') as { prototype: { findGroupCoordinator: FindCoordinator } };
  const original = Cluster.prototype.findGroupCoordinator;
  const caches = new WeakMap<object, Map<string, { broker: Promise<unknown>; expires: number }>>();
  Cluster.prototype.findGroupCoordinator = function (this: object, lookup: Lookup) {
    if (!cachedIds.has(lookup.groupId)) return original.call(this, lookup);
    let cache = caches.get(this);
    if (!cache) caches.set(this, (cache = new Map()));
    const key = `${lookup.coordinatorType ?? 0}:${lookup.groupId}`;
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.broker;
    const broker = original.call(this, lookup);
    cache.set(key, { broker, expires: Date.now() + TTL_MS });
    broker.catch(() => cache.delete(key));
    return broker;
  };
}
