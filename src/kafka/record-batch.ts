import { crc32c } from './crc32c.js';

/**
 * Kafka's v2 record batches, encoded into plain buffers: the records of a batch as one "record section" (built up
 * record by record as they are made, or all at once from kafkajs messages), then the Produce request body (versions
 * 3–8 share it) that frames each section with its batch header and CRC. kafkajs builds an encoder object and does
 * 64-bit Long arithmetic for every record; this is a few sequential writes. Field layout from the Kafka protocol
 * guide (RecordBatch magic 2 and Record), in the order the broker reads them.
 */

export type Bytes = string | Buffer | null | undefined;
export type HeaderValue = Bytes | Array<string | Buffer>;

/** The message shape kafkajs hands to its Produce request; timestamps may be numbers or decimal strings. */
export interface BatchMessage {
  key?: Bytes;
  value: Bytes;
  timestamp?: string | number;
  headers?: Record<string, HeaderValue>;
}

/** The records of one batch, encoded: offset deltas from 0, timestamp deltas from firstTimestamp. */
export interface RecordSection {
  bytes: Buffer;
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
}

export interface PartitionSection {
  partition: number;
  /** Sequence number of the batch's first record (idempotent producers); 0 otherwise. */
  baseSequence: number;
  section: RecordSection;
  /** Compression codec of section.bytes (0 none, 1 gzip); count and timestamps describe the uncompressed records. */
  codec?: number;
}

export interface ProduceRequestBody {
  transactionalId?: string | null;
  acks: number;
  timeoutMs: number;
  /** -1 for a producer that is neither idempotent nor transactional. */
  producerId: bigint;
  producerEpoch: number;
  topics: Array<{ topic: string; partitions: PartitionSection[] }>;
}

const MAGIC = 2;
const TRANSACTIONAL_ATTRIBUTE = 0x10;
// Producers leave the leader epoch unset; the broker stamps its own when it appends the batch.
const NO_PARTITION_LEADER_EPOCH = -1;
/** Bytes of a batch header, from baseOffset up to and including the record count. */
export const BATCH_HEADER_BYTES = 61;
/** Offset within a batch of the first byte the CRC covers (attributes). */
const CRC_START = 21;
const MAX_SPARE_BUFFERS = 2;

/**
 * Builds one batch's record section as records arrive, each copied in from the caller's scratch bytes so no record
 * object outlives its turn. Timestamp deltas count from the first record (they may be negative).
 *
 * Sections sent and acknowledged should come back through `recycle`: a buffer allocated per batch is memory the
 * garbage collector only sees as external allocation, and at full speed that churn (hundreds of MB/s) set off
 * most of its full collections and most of the process's resident memory.
 */
export class RecordSectionBuilder {
  private buffer: Buffer;
  private readonly spares: Buffer[] = [];
  private offset = 0;
  private first = 0;
  private max = Number.NEGATIVE_INFINITY;
  count = 0;

  constructor(private readonly initialBytes = 16 * 1024) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Encoded bytes so far. */
  get size(): number {
    return this.offset;
  }

  /** Appends a record already encoded: its key is source[0, keyEnd), its value source[keyEnd, valueEnd). */
  append(source: Buffer, keyEnd: number, valueEnd: number, timestamp: number): void {
    if (this.count === 0) this.first = timestamp;
    if (timestamp > this.max) this.max = timestamp;
    const valueLength = valueEnd - keyEnd;
    const timestampDelta = zigzag(timestamp - this.first);
    const offsetDelta = zigzag(this.count);
    const body =
      1 +
      varintSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(zigzag(keyEnd)) +
      keyEnd +
      varintSize(zigzag(valueLength)) +
      valueLength +
      1;
    this.ensure(5 + body);
    const buffer = this.buffer;
    let o = writeVarint(buffer, zigzag(body), this.offset);
    buffer[o++] = 0; // record attributes: none defined
    o = writeVarint(buffer, timestampDelta, o);
    o = writeVarint(buffer, offsetDelta, o);
    o = writeVarint(buffer, zigzag(keyEnd), o);
    for (let i = 0; i < keyEnd; i++) buffer[o++] = source[i]!;
    o = writeVarint(buffer, zigzag(valueLength), o);
    o += source.copy(buffer, o, keyEnd, valueEnd);
    buffer[o++] = 0; // no headers
    this.offset = o;
    this.count++;
  }

  /** The section so far; the builder starts empty again, in a spare buffer (the section keeps the old one). */
  seal(): RecordSection {
    const section = {
      bytes: this.buffer.subarray(0, this.offset),
      count: this.count,
      firstTimestamp: this.first,
      maxTimestamp: this.max,
    };
    this.buffer =
      this.spares.pop() ?? Buffer.allocUnsafeSlow(Math.max(this.initialBytes, Math.min(this.offset, 1 << 20)));
    this.offset = 0;
    this.count = 0;
    this.max = Number.NEGATIVE_INFINITY;
    return section;
  }

  /** Hands back the buffer of a section this builder sealed, once nothing reads the section any more. */
  recycle(section: RecordSection): void {
    // allocUnsafeSlow buffers own their whole ArrayBuffer, so the section's view leads back to all of it.
    if (this.spares.length < MAX_SPARE_BUFFERS)
      this.spares.push(Buffer.from(section.bytes.buffer, 0, section.bytes.buffer.byteLength));
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

/** The record section of kafkajs messages (any mix of string/Buffer/null keys and values, headers, timestamps). */
export function encodeRecordSection(messages: readonly BatchMessage[], now = Date.now()): RecordSection {
  const count = messages.length;
  const timestamps = new Float64Array(count);
  const keyLengths = new Int32Array(count);
  const valueLengths = new Int32Array(count);
  const headerSizes = new Int32Array(count);
  const bodySizes = new Int32Array(count);
  let first = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const message = messages[i]!;
    const timestamp = message.timestamp === undefined || message.timestamp === null ? now : Number(message.timestamp);
    timestamps[i] = timestamp;
    if (timestamp < first) first = timestamp;
    if (timestamp > max) max = timestamp;
    keyLengths[i] = lengthOf(message.key);
    valueLengths[i] = lengthOf(message.value);
    headerSizes[i] = message.headers ? headersSize(message.headers) : 1;
  }
  let size = 0;
  for (let i = 0; i < count; i++) {
    const body =
      1 +
      varintSize(zigzag(timestamps[i]! - first)) +
      varintSize(zigzag(i)) +
      varintSize(zigzag(keyLengths[i]!)) +
      Math.max(keyLengths[i]!, 0) +
      varintSize(zigzag(valueLengths[i]!)) +
      Math.max(valueLengths[i]!, 0) +
      headerSizes[i]!;
    bodySizes[i] = body;
    size += varintSize(zigzag(body)) + body;
  }
  const buffer = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < count; i++) {
    const message = messages[i]!;
    o = writeVarint(buffer, zigzag(bodySizes[i]!), o);
    buffer[o++] = 0;
    o = writeVarint(buffer, zigzag(timestamps[i]! - first), o);
    o = writeVarint(buffer, zigzag(i), o);
    o = writeBytes(buffer, message.key, keyLengths[i]!, o);
    o = writeBytes(buffer, message.value, valueLengths[i]!, o);
    o = message.headers ? writeHeaders(buffer, message.headers, o) : writeVarint(buffer, 0, o);
  }
  if (o !== size) throw new Error(`record encoding wrote ${o} of ${size} bytes`);
  return { bytes: buffer, count, firstTimestamp: count > 0 ? first : now, maxTimestamp: count > 0 ? max : now };
}

/**
 * The Produce request body: each section framed as a v2 record batch, its CRC computed over the final bytes.
 * With headroom, the body starts that many bytes into a buffer of its own (allocUnsafeSlow), so the request's
 * size and header can be written in front of it without copying the body.
 */
export function encodeProduceRequestBody(body: ProduceRequestBody, headroom = 0): Buffer {
  const transactionalIdBytes = body.transactionalId == null ? -1 : Buffer.byteLength(body.transactionalId);
  let size = 2 + Math.max(transactionalIdBytes, 0) + 2 + 4 + 4;
  for (const { topic, partitions } of body.topics) {
    size += 2 + Buffer.byteLength(topic) + 4;
    for (const { section } of partitions) size += 4 + 4 + BATCH_HEADER_BYTES + section.bytes.length;
  }
  const buffer = headroom > 0 ? Buffer.allocUnsafeSlow(headroom + size).subarray(headroom) : Buffer.allocUnsafe(size);
  let o = buffer.writeInt16BE(transactionalIdBytes, 0);
  if (body.transactionalId != null) o += buffer.write(body.transactionalId, o);
  o = buffer.writeInt16BE(body.acks, o);
  o = buffer.writeInt32BE(body.timeoutMs, o);
  o = buffer.writeInt32BE(body.topics.length, o);
  const transactional = body.transactionalId != null ? TRANSACTIONAL_ATTRIBUTE : 0;
  for (const { topic, partitions } of body.topics) {
    o = buffer.writeInt16BE(Buffer.byteLength(topic), o);
    o += buffer.write(topic, o);
    o = buffer.writeInt32BE(partitions.length, o);
    for (const { partition, baseSequence, section, codec } of partitions) {
      const batchSize = BATCH_HEADER_BYTES + section.bytes.length;
      o = buffer.writeInt32BE(partition, o);
      o = buffer.writeInt32BE(batchSize, o);
      const batchStart = o;
      o = buffer.writeBigInt64BE(0n, o); // base offset: the broker assigns offsets
      o = buffer.writeInt32BE(batchSize - 12, o); // bytes after this length field
      o = buffer.writeInt32BE(NO_PARTITION_LEADER_EPOCH, o);
      o = buffer.writeInt8(MAGIC, o);
      o += 4; // CRC, written once the batch is complete
      o = buffer.writeInt16BE(transactional | (codec ?? 0), o);
      o = buffer.writeInt32BE(section.count - 1, o);
      o = buffer.writeBigInt64BE(BigInt(Math.trunc(section.firstTimestamp)), o);
      o = buffer.writeBigInt64BE(BigInt(Math.trunc(section.maxTimestamp)), o);
      o = buffer.writeBigInt64BE(body.producerId, o);
      o = buffer.writeInt16BE(body.producerEpoch, o);
      o = buffer.writeInt32BE(baseSequence, o);
      o = buffer.writeInt32BE(section.count, o);
      o += section.bytes.copy(buffer, o);
      buffer.writeUInt32BE(crc32c(buffer, batchStart + CRC_START, o), batchStart + 17);
    }
  }
  if (o !== size) throw new Error(`produce request encoding wrote ${o} of ${size} bytes`);
  return buffer;
}

function lengthOf(bytes: Bytes): number {
  if (bytes === null || bytes === undefined) return -1;
  return typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
}

function writeBytes(buffer: Buffer, bytes: Bytes, length: number, o: number): number {
  o = writeVarint(buffer, zigzag(length), o);
  if (length <= 0) return o;
  if (typeof bytes === 'string') return o + buffer.write(bytes, o);
  return o + (bytes as Buffer).copy(buffer, o);
}

/** kafkajs headers: a value may be a list, which becomes one header per element under the same key. */
function headerEntries(headers: Record<string, HeaderValue>): Array<[string, Bytes]> {
  const entries: Array<[string, Bytes]> = [];
  for (const [key, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const element of value) entries.push([key, element]);
    else entries.push([key, value]);
  }
  return entries;
}

function headersSize(headers: Record<string, HeaderValue>): number {
  const entries = headerEntries(headers);
  let size = varintSize(zigzag(entries.length));
  for (const [key, value] of entries) {
    const keyLength = Buffer.byteLength(key);
    const valueLength = lengthOf(value);
    size += varintSize(zigzag(keyLength)) + keyLength + varintSize(zigzag(valueLength)) + Math.max(valueLength, 0);
  }
  return size;
}

function writeHeaders(buffer: Buffer, headers: Record<string, HeaderValue>, o: number): number {
  const entries = headerEntries(headers);
  o = writeVarint(buffer, zigzag(entries.length), o);
  for (const [key, value] of entries) {
    o = writeBytes(buffer, key, Buffer.byteLength(key), o);
    o = writeBytes(buffer, value, lengthOf(value), o);
  }
  return o;
}

/** Zigzag encoding of an integer up to 2^52 in magnitude (timestamp deltas can exceed 32 bits). */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varintSize(unsigned: number): number {
  if (unsigned < 0x80) return 1;
  if (unsigned < 0x4000) return 2;
  let size = 3;
  unsigned = Math.floor(unsigned / 0x200000);
  while (unsigned > 0) {
    unsigned = Math.floor(unsigned / 128);
    size++;
  }
  return size;
}

function writeVarint(buffer: Buffer, unsigned: number, o: number): number {
  while (unsigned >= 0x80) {
    buffer[o++] = (unsigned % 128) | 0x80;
    unsigned = Math.floor(unsigned / 128);
  }
  buffer[o++] = unsigned;
  return o;
}
