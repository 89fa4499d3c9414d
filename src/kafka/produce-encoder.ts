import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  encodeProduceRequestBody,
  encodeRecordSection,
  type BatchMessage,
  type PartitionSection,
  type RecordSection,
} from './record-batch.js';

/**
 * Puts our record-batch encoding (record-batch.ts) under kafkajs' producer: kafkajs still finds leaders, assigns
 * sequence numbers, retries and keeps the connections, and decodes the responses; the bytes of Produce requests
 * (versions 3 and up, the ones carrying v2 record batches) come from us. Encoding was most of the producer's CPU
 * time (~15 µs a record in kafkajs, about 1 µs here).
 *
 * A partition's records can also arrive already encoded, as one kafkajs message made by `preEncodedMessage`: kafkajs
 * then handles one message per partition instead of every record (its per-record grouping is quadratic). Its
 * sequence numbers then count batches, not records, so for those partitions we translate: batch number n of a
 * producer id, epoch and partition starts at the sum of the record counts of batches 0 … n-1. A retried batch
 * comes back with the number it had (kafkajs rolls its sequence back on failure) and gets the same sequence, which
 * is what lets the broker drop a repeat.
 *
 * This reaches into kafkajs internals (the Produce request table), so kafkajs is pinned at 2.2.4; the unit tests
 * compare our bytes with kafkajs' own encoding and fail if the table's shape changes.
 */

interface KafkajsLong {
  toString(): string;
}

interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: KafkajsLong | number;
  producerEpoch?: number;
  topicData: Array<{
    topic: string;
    partitions: Array<{ partition: number; firstSequence?: number; messages: BatchMessage[] }>;
  }>;
}

interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<unknown>;
}

type VersionFactory = (args: ProduceArgs) => { request: ProduceRequest; response: unknown };

interface ProduceRequestTable {
  versions: string[];
  protocol: (options: { version: number }) => VersionFactory;
}

const FIRST_RECORD_BATCH_VERSION = 3;
const CODEC_NONE = 0;
const CODEC_GZIP = 1;
const INSTALLED = Symbol.for('marketplace.produceEncoder');
const PRE_ENCODED = Symbol('marketplace.preEncodedSection');
const gzipAsync = promisify(gzip);

/** A kafkajs message standing for a whole batch of records already encoded for `partition`. */
export interface PreEncodedMessage {
  key: null;
  value: null;
  partition: number;
  [PRE_ENCODED]: RecordSection;
}

export function preEncodedMessage(partition: number, section: RecordSection): PreEncodedMessage {
  return { key: null, value: null, partition, [PRE_ENCODED]: section };
}

/** kafkajs' request table for Produce, the very module instance its brokers look requests up in. */
export function kafkajsProduceRequests(): ProduceRequestTable {
  const require = createRequire(import.meta.url);
  const table = require('kafkajs/src/protocol/requests/produce/index.js') as ProduceRequestTable;
  if (typeof table.protocol !== 'function' || !Array.isArray(table.versions)) {
    throw new Error('kafkajs Produce request table has an unexpected shape (kafkajs must be 2.2.4)');
  }
  return table;
}

/** Idempotent: every kafkajs client in this process encodes its Produce requests with our encoder. */
export function installProduceEncoder(): void {
  const table = kafkajsProduceRequests() as ProduceRequestTable & { [INSTALLED]?: true };
  if (table[INSTALLED]) return;
  installHeaderInPlace();
  const original = table.protocol;
  table.protocol = ({ version }) => {
    const factory = original({ version });
    if (version < FIRST_RECORD_BATCH_VERSION) return factory;
    return (args) => {
      const built = factory(args);
      const codec = args.compression ?? CODEC_NONE;
      if (codec !== CODEC_NONE && codec !== CODEC_GZIP) {
        if (hasPreEncoded(args)) throw new Error('pre-encoded batches support no compression but gzip');
        return built; // snappy, lz4, zstd: kafkajs' codecs (plugins)
      }
      const request: ProduceRequest = {
        ...built.request,
        encode: async () => asEncoder(await encodeArgs(args, codec)),
      };
      return { request, response: built.response };
    };
  };
  table[INSTALLED] = true;
}

async function encodeArgs(args: ProduceArgs, codec: number): Promise<Buffer> {
  const producerId = args.producerId === undefined ? -1n : BigInt(args.producerId.toString());
  const producerEpoch = args.producerEpoch ?? 0;
  const topics = await Promise.all(
    args.topicData.map(async ({ topic, partitions }) => ({
      topic,
      partitions: await Promise.all(
        partitions.map(async ({ partition, firstSequence, messages }): Promise<PartitionSection> => {
          const preEncoded =
            messages.length === 1 ? (messages[0] as Partial<PreEncodedMessage>)[PRE_ENCODED] : undefined;
          const section = preEncoded ?? encodeRecordSection(messages);
          const baseSequence =
            preEncoded && producerId >= 0n
              ? recordSequence(
                  `${producerId}/${producerEpoch}/${topic}/${partition}`,
                  firstSequence ?? 0,
                  section.count,
                )
              : (firstSequence ?? 0);
          if (codec === CODEC_NONE) return { partition, baseSequence, section };
          return { partition, baseSequence, section: { ...section, bytes: await gzipAsync(section.bytes) }, codec };
        }),
      ),
    })),
  );
  return encodeProduceRequestBody(
    {
      transactionalId: args.transactionalId ?? null,
      acks: args.acks,
      timeoutMs: args.timeout,
      producerId,
      producerEpoch,
      topics,
    },
    HEADROOM,
  );
}

function hasPreEncoded(args: ProduceArgs): boolean {
  return args.topicData.some(({ partitions }) =>
    partitions.some(({ messages }) =>
      messages.some((m) => (m as Partial<PreEncodedMessage>)[PRE_ENCODED] !== undefined),
    ),
  );
}

interface SequenceState {
  /** The batch number last encoded, its first record sequence and its record count. */
  batch: number;
  base: number;
  count: number;
}

const sequences = new Map<string, SequenceState>();

/**
 * The record sequence of kafkajs batch number `batch` on one producer id, epoch and partition. Batches are sent
 * one at a time per partition (one request in flight), so only the next batch or a retry of the last can come.
 */
export function recordSequence(partitionKey: string, batch: number, count: number): number {
  const last = sequences.get(partitionKey);
  let base: number;
  if (last === undefined) {
    if (batch !== 0) throw new Error(`pre-encoded batch ${batch} of ${partitionKey} without its predecessors`);
    base = 0;
  } else if (batch === last.batch + 1) {
    base = last.base + last.count;
  } else if (batch === last.batch) {
    base = last.base;
  } else {
    throw new Error(`pre-encoded batch ${batch} of ${partitionKey} out of order (last was ${last.batch})`);
  }
  sequences.set(partitionKey, { batch, base, count });
  return base;
}

/** kafkajs appends a request body with Encoder.writeEncoder, which only reads `buf` (type check) and `buffer`. */
function asEncoder(bytes: Buffer): { buf: Buffer; buffer: Buffer; size(): number; [IN_PLACE]: true } {
  return { buf: bytes, buffer: bytes, size: () => bytes.length, [IN_PLACE]: true };
}

/**
 * Room in front of each request body for what kafkajs puts before it: the size (4 bytes) and the request header
 * (api key, version, correlation id: 8 bytes; client id: 2 + its length).
 */
const HEADROOM = 256;
const IN_PLACE = Symbol('marketplace.headerInPlace');

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  writeEncoder(value: unknown): KafkajsEncoder;
  [IN_PLACE]?: true;
}

/**
 * kafkajs frames every request by copying the body into a new, zero-filled, power-of-two buffer behind the header,
 * and that again behind the size: two allocations and copies of up to twice the request per request. For our
 * bodies, which come with headroom, Encoder.writeEncoder instead writes what it holds (header, size) into the room
 * just before the body and takes over the body's buffer. Other encoders are left to kafkajs' own method.
 */
function installHeaderInPlace(): void {
  const require = createRequire(import.meta.url);
  const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: KafkajsEncoder };
  const original = Encoder.prototype.writeEncoder;
  if (typeof original !== 'function')
    throw new Error('kafkajs Encoder has an unexpected shape (kafkajs must be 2.2.4)');
  Encoder.prototype.writeEncoder = function writeEncoder(this: KafkajsEncoder, value: unknown) {
    const inPlace = value as Partial<KafkajsEncoder> | null;
    if (inPlace?.[IN_PLACE] && this.offset <= inPlace.buffer!.byteOffset) {
      const body = inPlace.buffer!;
      const start = body.byteOffset - this.offset;
      const whole = Buffer.from(body.buffer, start, this.offset + body.length);
      this.buf.copy(whole, 0, 0, this.offset);
      this.buf = whole;
      this.offset = whole.length;
      this[IN_PLACE] = true;
      return this;
    }
    return original.call(this, value);
  };
}
