import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/kafka/crc32c.js';
import {
  installProduceEncoder,
  kafkajsProduceRequests,
  preEncodedMessage,
  recordSequence,
} from '../../src/kafka/produce-encoder.js';
import {
  RecordSectionBuilder,
  encodeProduceRequestBody,
  encodeRecordSection,
  type BatchMessage,
} from '../../src/kafka/record-batch.js';

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: BatchMessage[];
}

/** Our request body for kafkajs-shaped topic data, every partition's records encoded at once. */
function encodeTopicData(
  body: {
    transactionalId?: string | null;
    acks: number;
    timeoutMs: number;
    producerId: bigint;
    producerEpoch: number;
    now?: number;
  },
  topics: Array<{ topic: string; partitions: PartitionData[] }>,
): Buffer {
  return encodeProduceRequestBody({
    ...body,
    topics: topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map((p) => ({
        partition: p.partition,
        baseSequence: p.firstSequence ?? 0,
        section: encodeRecordSection(p.messages, body.now),
      })),
    })),
  });
}

// kafkajs' own encoder and decoder are the independent reference: its Produce v3 request (before our encoder is
// installed in this process) and its v2 record-batch decoder.
const require = createRequire(import.meta.url);
const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (args: object) => {
  encode(): Promise<{ buffer: Buffer }>;
};
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (
  buffer: Buffer,
) => {
  readInt16(): number;
  readInt32(): number;
  readString(): string | null;
  readBytes(size: number): Buffer;
};
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{
  firstSequence: number;
  producerId: string;
  producerEpoch: number;
  inTransaction: boolean;
  records: Array<{
    key: Buffer | null;
    value: Buffer | null;
    timestamp: string;
    offset: string;
    headers: Record<string, Buffer | Buffer[]>;
  }>;
}>;

const T0 = 1_790_000_000_000;

function sampleTopics(): Array<{ topic: string; partitions: PartitionData[] }> {
  return [
    {
      topic: 'job_created',
      partitions: [
        {
          partition: 0,
          firstSequence: 41,
          messages: [
            { key: '1000001', value: '{"job_id":1000001,"price":120}', timestamp: String(T0) },
            { key: '1000002', value: '{"job_id":1000002,"price":95}', timestamp: String(T0 + 3) },
          ],
        },
        {
          partition: 5,
          firstSequence: 0,
          messages: [{ key: 'ünïcødé-ключ', value: 'Ōtaki Rd, Café ☕', timestamp: String(T0 + 70_000) }],
        },
      ],
    },
    {
      topic: 'tradie_truck_location',
      partitions: [
        {
          partition: 2,
          firstSequence: 7,
          messages: [
            { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: String(T0 + 1) },
            { key: 'TRUCK-0001', value: null, timestamp: String(T0 + 1) },
            {
              key: 'h',
              value: 'x',
              timestamp: String(T0 + 2),
              headers: { trace: 'abc', multi: ['1', Buffer.from('2')] },
            },
          ],
        },
      ],
    },
  ];
}

/** Walks a Produce v3+ request body and calls back with each record batch's offset and length. */
function eachBatch(
  body: Buffer,
  visit: (topic: string, partition: number, start: number, length: number) => void,
): void {
  let o = 2 + Math.max(body.readInt16BE(0), 0) + 2 + 4;
  const topics = body.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = body.readInt16BE(o);
    const topic = body.toString('utf8', o + 2, o + 2 + nameLength);
    o += 2 + nameLength;
    const partitions = body.readInt32BE(o);
    o += 4;
    for (let p = 0; p < partitions; p++) {
      const partition = body.readInt32BE(o);
      const length = body.readInt32BE(o + 4);
      visit(topic, partition, o + 8, length);
      o += 8 + length;
    }
  }
  expect(o).toBe(body.length);
}

describe('crc32c', () => {
  it('matches the published CRC-32C check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
    expect(crc32c(Buffer.from([...Array(32).keys()]))).toBe(0x46dd794e); // RFC 3720 B.4: incrementing
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('covers a sub-range without copying', () => {
    const bytes = Buffer.from('xx123456789yy');
    expect(crc32c(bytes, 2, 11)).toBe(0xe3069283);
  });
});

describe('Produce request encoding', () => {
  it('writes the same bytes as kafkajs, apart from the unset leader epoch', async () => {
    const args = { acks: -1, timeout: 30_000, transactionalId: null, producerId: 4242n, producerEpoch: 3 };
    const ours = encodeTopicData({ ...args, timeoutMs: args.timeout }, sampleTopics());
    const theirs = Buffer.from(
      (await kafkajsProduceV3({ ...args, producerId: Long.fromValue(4242), topicData: sampleTopics() }).encode())
        .buffer,
    );
    expect(ours.length).toBe(theirs.length);
    let batches = 0;
    eachBatch(theirs, (_topic, _partition, start) => {
      expect(theirs.readInt32BE(start + 12)).toBe(0); // kafkajs writes 0; producers should leave it unset (-1)
      expect(ours.readInt32BE(start + 12)).toBe(-1);
      theirs.writeInt32BE(-1, start + 12);
      batches++;
    });
    expect(batches).toBe(3);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('encodes batches kafkajs decodes back to the same records, with valid CRCs', async () => {
    const topics = sampleTopics();
    const body = encodeTopicData(
      { transactionalId: 'tx-1', acks: -1, timeoutMs: 5000, producerId: 99n, producerEpoch: 1 },
      topics,
    );
    expect(body.readInt16BE(0)).toBe(4);
    expect(body.toString('utf8', 2, 6)).toBe('tx-1');
    const seen: string[] = [];
    const pending: Array<Promise<void>> = [];
    eachBatch(body, (topic, partition, start, length) => {
      const batch = body.subarray(start, start + length);
      expect(batch.readUInt32BE(17)).toBe(crc32c(batch, 21));
      const expected = topics.find((t) => t.topic === topic)!.partitions.find((p) => p.partition === partition)!;
      pending.push(
        decodeRecordBatch(new Decoder(batch)).then((decoded) => {
          expect(decoded.producerId).toBe('99');
          expect(decoded.producerEpoch).toBe(1);
          expect(decoded.inTransaction).toBe(true);
          expect(decoded.firstSequence).toBe(expected.firstSequence);
          expect(decoded.records).toHaveLength(expected.messages.length);
          decoded.records.forEach((record, i) => {
            const message = expected.messages[i]!;
            const asBuffer = (bytes: unknown) => (bytes == null ? null : Buffer.from(bytes as string));
            expect(record.key).toEqual(asBuffer(message.key));
            expect(record.value).toEqual(asBuffer(message.value));
            expect(record.timestamp).toBe(String(message.timestamp));
            expect(record.offset).toBe(String(i));
            seen.push(`${topic}/${partition}/${i}`);
          });
          if (expected.messages[2]?.headers) {
            expect(decoded.records[2]!.headers.trace).toEqual(Buffer.from('abc'));
            expect(decoded.records[2]!.headers.multi).toEqual([Buffer.from('1'), Buffer.from('2')]);
          }
        }),
      );
    });
    await Promise.all(pending);
    expect(seen).toHaveLength(6);
  });

  it('handles numeric timestamps, missing ones and deltas beyond 32 bits', async () => {
    const body = encodeTopicData({ acks: 1, timeoutMs: 1000, producerId: -1n, producerEpoch: -1, now: T0 }, [
      {
        topic: 't',
        partitions: [
          {
            partition: 0,
            messages: [{ value: 'a', timestamp: 1000 }, { value: 'b' }, { value: 'c', timestamp: '5000' }],
          },
        ],
      },
    ]);
    const batches: Buffer[] = [];
    eachBatch(body, (_t, _p, start, length) => batches.push(body.subarray(start, start + length)));
    const decoded = await decodeRecordBatch(new Decoder(batches[0]!));
    expect(decoded.records.map((r) => r.timestamp)).toEqual(['1000', String(T0), '5000']);
    expect(decoded.producerId).toBe('-1');
  });
});

describe('installProduceEncoder', () => {
  it('routes uncompressed Produce requests of v3 and later through our encoder, and leaves the rest to kafkajs', async () => {
    installProduceEncoder();
    installProduceEncoder(); // a second install is a no-op, not a second wrapper
    const table = kafkajsProduceRequests();
    expect(table.versions.map(Number)).toEqual(expect.arrayContaining([3, 7]));
    const args = {
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromValue(12),
      producerEpoch: 0,
      topicData: sampleTopics(),
    };
    const { request } = table.protocol({ version: 7 })(args as never);
    expect(request.apiVersion).toBe(7);
    const encoded = (await request.encode()) as { buffer: Buffer };
    const expected = encodeTopicData({ ...args, producerId: 12n, timeoutMs: args.timeout }, sampleTopics());
    expect(encoded.buffer.equals(expected)).toBe(true);

    // kafkajs' own framing (size, api key, version, correlation id, client id, body), written in front of the body
    const createRequest = require('kafkajs/src/protocol/request.js') as (
      args: object,
    ) => Promise<{ buffer: Buffer; size(): number }>;
    for (const clientId of ['marketplace-produce', 'c'.repeat(400)]) {
      const framed = await createRequest({
        correlationId: 77,
        clientId,
        request: table.protocol({ version: 7 })(args as never).request,
      });
      const header = Buffer.alloc(10 + clientId.length);
      header.writeInt16BE(0, 0);
      header.writeInt16BE(7, 2);
      header.writeInt32BE(77, 4);
      header.writeInt16BE(clientId.length, 8);
      header.write(clientId, 10);
      const size = Buffer.alloc(4);
      size.writeInt32BE(header.length + expected.length);
      expect(framed.buffer.equals(Buffer.concat([size, header, expected])), clientId).toBe(true);
      expect(framed.size()).toBe(4 + header.length + expected.length);
    }
    // other encoders still go through kafkajs' own writeEncoder
    const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => {
      writeInt8(v: number): unknown;
      writeEncoder(e: unknown): { buffer: Buffer };
    };
    const inner = new Encoder();
    inner.writeInt8(5);
    const outer = new Encoder();
    outer.writeInt8(4);
    expect([...outer.writeEncoder(inner).buffer]).toEqual([4, 5]);

    const gzip = table.protocol({ version: 7 })({ ...args, compression: 1 } as never);
    const gzipBody = ((await gzip.request.encode()) as { buffer: Buffer }).buffer;
    expect(gzipBody.equals(expected)).toBe(false);
    eachBatch(gzipBody, (_t, _p, start) => expect(gzipBody.readInt16BE(start + 21) & 0x07).toBe(1));
  });
});

/** The records of the one batch in a Produce request body, as kafkajs decodes them. */
async function decodeOnlyBatch(body: Buffer) {
  const batches: Buffer[] = [];
  eachBatch(body, (_t, _p, start, length) => batches.push(body.subarray(start, start + length)));
  expect(batches).toHaveLength(1);
  return decodeRecordBatch(new Decoder(batches[0]!));
}

/** Appends a record given as text: its key and value laid out as the builder takes them. */
function appendText(builder: RecordSectionBuilder, key: string, value: string, timestamp: number): void {
  const bytes = Buffer.from(key + value, 'utf8');
  builder.append(bytes, Buffer.byteLength(key), bytes.length, timestamp);
}

describe('RecordSectionBuilder', () => {
  it('builds, record by record, the same section as encoding the batch at once', () => {
    const builder = new RecordSectionBuilder(64);
    const messages: BatchMessage[] = [];
    for (let i = 0; i < 500; i++) {
      const message = {
        key: String(1_000_000 + i),
        value: `{"n":${i},"text":"${'é☕x'.repeat(i % 7)}"}`,
        timestamp: T0 + i * 3,
      };
      messages.push(message);
      appendText(builder, message.key, message.value, message.timestamp);
    }
    expect(builder.count).toBe(500);
    const built = builder.seal();
    const atOnce = encodeRecordSection(messages);
    expect(built.count).toBe(500);
    expect(built.firstTimestamp).toBe(T0);
    expect(built.maxTimestamp).toBe(T0 + 499 * 3);
    expect(built.bytes.equals(atOnce.bytes)).toBe(true);
    expect(builder.count).toBe(0);
    expect(builder.size).toBe(0);
  });

  it('sizes the length varints by bytes, not characters, where a value crosses a varint size', () => {
    // 60 characters but 70 bytes (crosses 64, where the zigzag length needs a second byte); likewise around 8192.
    const values = ['é'.repeat(10) + 'x'.repeat(50), '☕'.repeat(3000) + 'y'.repeat(100), 'plain ascii', ''];
    const builder = new RecordSectionBuilder(32);
    const messages = values.map((value, i) => ({ key: `k${i}`, value, timestamp: T0 + i }));
    for (const m of messages) appendText(builder, m.key, m.value, m.timestamp);
    expect(builder.seal().bytes.equals(encodeRecordSection(messages).bytes)).toBe(true);
  });

  it('keeps records whose timestamps go backwards, and keys that are empty', async () => {
    const builder = new RecordSectionBuilder();
    const input = [
      { key: 'a', value: 'first', timestamp: T0 + 5000 },
      { key: '', value: 'older', timestamp: T0 },
      { key: 'c', value: 'x'.repeat(20_000), timestamp: T0 + 2 ** 33 },
    ];
    for (const r of input) appendText(builder, r.key, r.value, r.timestamp);
    const section = builder.seal();
    expect(section.firstTimestamp).toBe(T0 + 5000);
    expect(section.maxTimestamp).toBe(T0 + 2 ** 33);
    const body = encodeProduceRequestBody({
      acks: -1,
      timeoutMs: 1000,
      producerId: 1n,
      producerEpoch: 0,
      topics: [{ topic: 't', partitions: [{ partition: 0, baseSequence: 0, section }] }],
    });
    const decoded = await decodeOnlyBatch(body);
    expect(decoded.records.map((r) => [r.key?.toString() ?? null, r.value!.toString(), Number(r.timestamp)])).toEqual(
      input.map((r) => [r.key, r.value, r.timestamp]),
    );
  });
});

describe('recordSequence', () => {
  it('turns kafkajs batch numbers into record sequences, and gives a retried batch its first sequence again', () => {
    const key = `p-${Math.random()}`;
    expect(recordSequence(key, 0, 10)).toBe(0);
    expect(recordSequence(key, 1, 7)).toBe(10);
    expect(recordSequence(key, 1, 7)).toBe(10); // retry
    expect(recordSequence(key, 2, 1)).toBe(17);
    expect(() => recordSequence(key, 5, 1)).toThrow(/out of order/);
    expect(() => recordSequence(`q-${Math.random()}`, 3, 1)).toThrow(/without its predecessors/);
  });
});

describe('pre-encoded batches through kafkajs Produce requests', () => {
  it('send each batch with the record sequence the broker expects, uncompressed and gzip', async () => {
    installProduceEncoder();
    const table = kafkajsProduceRequests();
    const producerId = 900_000 + Math.floor(Math.random() * 1000);
    const batchOf = (from: number, count: number) => {
      const builder = new RecordSectionBuilder();
      for (let i = from; i < from + count; i++) appendText(builder, `k${i}`, `v${i}`, T0 + i);
      return builder.seal();
    };
    const requestFor = (batch: number, section: ReturnType<typeof batchOf>, compression = 0) =>
      table.protocol({ version: 7 })({
        acks: -1,
        timeout: 30_000,
        compression,
        producerId: Long.fromValue(producerId),
        producerEpoch: 0,
        topicData: [
          {
            topic: 'jobs',
            partitions: [{ partition: 3, firstSequence: batch, messages: [preEncodedMessage(3, section) as never] }],
          },
        ],
      } as never).request;
    const first = await decodeOnlyBatch(((await requestFor(0, batchOf(0, 4)).encode()) as { buffer: Buffer }).buffer);
    expect(first.firstSequence).toBe(0);
    expect(first.records.map((r) => r.value!.toString())).toEqual(['v0', 'v1', 'v2', 'v3']);
    const secondBatch = batchOf(4, 3);
    const second = await decodeOnlyBatch(((await requestFor(1, secondBatch, 1).encode()) as { buffer: Buffer }).buffer);
    expect(second.firstSequence).toBe(4);
    expect(second.records.map((r) => [r.key!.toString(), r.value!.toString(), Number(r.timestamp)])).toEqual([
      ['k4', 'v4', T0 + 4],
      ['k5', 'v5', T0 + 5],
      ['k6', 'v6', T0 + 6],
    ]);
    const retried = await decodeOnlyBatch(((await requestFor(1, secondBatch).encode()) as { buffer: Buffer }).buffer);
    expect(retried.firstSequence).toBe(4);
    const third = await decodeOnlyBatch(((await requestFor(2, batchOf(7, 1)).encode()) as { buffer: Buffer }).buffer);
    expect(third.firstSequence).toBe(7);
  });
});
