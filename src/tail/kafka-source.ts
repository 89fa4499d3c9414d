import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from '../kafka/client.js';
import { parseJson } from '../json/exact-json.js';
import type { RowSource, TailRow } from './source.js';

export interface KafkaSourceOptions {
  kafka: Kafka;
  topic: string;
  fromBeginning: boolean;
  /** Name and type of the key column, when known (from ksqlDB's DESCRIBE); otherwise the key is shown as KEY. */
  key?: { name: string; type: string };
}

/**
 * Reads the topic with a throw-away consumer group, turning each JSON value into a row and decoding the key the way
 * ksqlDB's KAFKA key format writes it (BIGINT: 8 bytes big-endian; VARCHAR: UTF-8).
 */
export async function kafkaRowSource(options: KafkaSourceOptions): Promise<RowSource> {
  const groupId = `marketplace-tail-${randomUUID()}`;
  const consumer: Consumer = options.kafka.consumer({ groupId, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning });
  const keyName = options.key?.name ?? 'KEY';
  const queue: TailRow[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let closed = false;
  const cleanup = async () => {
    closed = true;
    await consumer.disconnect().catch(() => undefined);
    const admin = options.kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
    wake?.();
  };
  consumer
    .run({
      eachMessage: async ({ message }) => {
        let value: Record<string, unknown> = {};
        if (message.value) {
          try {
            value = parseJson(jsonText(message.value)) as Record<string, unknown>;
          } catch {
            value = { VALUE: message.value.toString('utf8') };
          }
        }
        queue.push({ [keyName]: decodeKey(message.key, options.key?.type), ...upperCaseKeys(value) });
        wake?.();
      },
    })
    .catch((error: unknown) => {
      failure = error;
      wake?.();
    });
  const columns = [keyName];
  return {
    columns,
    keyColumns: [keyName],
    close: cleanup,
    [Symbol.asyncIterator]: async function* () {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (failure) throw failure;
        if (closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

export function decodeKey(key: Buffer | null, type: string | undefined): unknown {
  if (key === null) return null;
  if (type === 'BIGINT' && key.length === 8) return key.readBigInt64BE(0);
  if (type === 'INTEGER' && key.length === 4) return key.readInt32BE(0);
  if (type === undefined && key.length === 8 && !isPrintable(key)) return key.readBigInt64BE(0);
  return key.toString('utf8');
}

function isPrintable(bytes: Buffer): boolean {
  return bytes.every((byte) => byte >= 0x20 && byte < 0x7f);
}

/**
 * A value's JSON text. A value written with a schema id (Confluent's wire format: a zero byte and a 4-byte schema id,
 * as Confluent Cloud Flink writes its json-registry tables) carries the JSON after those five bytes.
 */
export function jsonText(value: Buffer): string {
  return value.length > 5 && value[0] === 0 ? value.toString('utf8', 5) : value.toString('utf8');
}

function upperCaseKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([name, v]) => [name.toUpperCase(), v]));
}
