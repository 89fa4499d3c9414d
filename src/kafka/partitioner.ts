import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/**
 * The Java client's DefaultPartitioner for keyed records: toPositive(murmur2(key bytes)) % partitions, exactly as
 * kafkajs' DefaultPartitioner computes it, but with 32-bit integer math instead of kafkajs' Long emulation. Unkeyed
 * records and records with an explicit partition go to kafkajs' own DefaultPartitioner. (`marketplace produce`
 * partitions its records itself, with partitionForKeyRange, as it encodes them.)
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key === undefined || message.key === null) return fallback(args);
    return partitionForKey(message.key, partitionMetadata.length);
  };
};

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of a key's UTF-8 bytes, as a signed 32-bit int. */
export function murmur2(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return murmur2Range(bytes, 0, bytes.length);
}

/** murmur2 of bytes[start, end). */
export function murmur2Range(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let h = SEED ^ length;
  const whole = start + (length & ~3);
  for (let i = start; i < whole; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= bytes[whole + 2]! << 16;
  if (tail >= 2) h ^= bytes[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= bytes[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the Java client (and ksqlDB) puts a keyed record on: toPositive(murmur2(key)) % partitions. */
export function partitionForKey(key: string | Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** partitionForKey of the key bytes[start, end). */
export function partitionForKeyRange(bytes: Uint8Array, start: number, end: number, partitions: number): number {
  return (murmur2Range(bytes, start, end) & 0x7fffffff) % partitions;
}
