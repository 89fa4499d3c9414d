import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWordPools, type WordPools } from '../../src/producers/population.js';
import { INPUT_TOPICS } from '../../src/producers/records.js';
import { recordCollector, type TextRecord } from '../helpers/records.js';
import { Workload } from '../../src/producers/workload.js';

interface Column {
  name: string;
  type: string;
  key: boolean;
}
interface Source {
  name: string;
  topic: string;
  keyFormat: string | undefined;
  columns: Column[];
}

/** The column lists of every CREATE STREAM/TABLE with an explicit schema in templates/ksql, read from the files. */
function sourcesFromTemplates(): Source[] {
  const dir = join(import.meta.dirname, '../../templates/ksql');
  const sources: Source[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const sql = readFileSync(join(dir, file), 'utf8').replace(/--[^\n]*/g, '');
    const pattern =
      /CREATE\s+(?:OR\s+REPLACE\s+)?(?:STREAM|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(([^)]*)\)\s*WITH\s*\(([^)]*)\)/gi;
    for (const match of sql.matchAll(pattern)) {
      const props = match[3]!;
      const topic = /KAFKA_TOPIC\s*=\s*'([^']+)'/i.exec(props)?.[1];
      const keyFormat = /KEY_FORMAT\s*=\s*'([^']+)'/i.exec(props)?.[1]?.toUpperCase();
      const columns = match[2]!
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)
        .map((definition) => {
          const [name, type, ...rest] = definition.split(/\s+/);
          return { name: name!, type: type!.toUpperCase(), key: /\bKEY\b/i.test(rest.join(' ')) };
        });
      sources.push({ name: match[1]!, topic: topic!, keyFormat, columns });
    }
  }
  return sources;
}

function conforms(value: unknown, type: string): boolean {
  switch (type) {
    case 'BIGINT':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'INT':
    case 'INTEGER':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 31;
    case 'DOUBLE':
      return typeof value === 'number' && Number.isFinite(value);
    case 'VARCHAR':
    case 'STRING':
      return typeof value === 'string';
    case 'BOOLEAN':
      return typeof value === 'boolean';
    default:
      throw new Error(`column type ${type} is not handled by this test`);
  }
}

function generate(pools: WordPools, seed: number, seconds: number): TextRecord[] {
  const workload = new Workload({
    seed,
    pools,
    topics: new Set(INPUT_TOPICS),
    acceptRatio: 0.7,
    maxOrderDelayMs: 2000,
    trucks: 4,
    truckIntervalMs: 1000,
  });
  const { sink, records: out } = recordCollector();
  const start = Date.UTC(2025, 0, 15, 9, 0, 0);
  for (let t = 0; t <= seconds * 1000; t += 100) {
    workload.addJobs(5, start + t, sink);
    workload.due(start + t, sink);
  }
  workload.flushOrders(start + seconds * 1000, sink);
  return out;
}

describe('generated records against templates/ksql', () => {
  const sources = sourcesFromTemplates();
  let pools: WordPools;
  let records: TextRecord[];

  beforeAll(async () => {
    pools = await buildWordPools(42);
    records = generate(pools, 42, 20);
  });

  it('finds a schema for every input topic in the templates', () => {
    for (const topic of INPUT_TOPICS) expect(sources.map((s) => s.topic)).toContain(topic);
  });

  for (const topic of INPUT_TOPICS) {
    it(`${topic}: every value has exactly the declared value columns with their types, and the key matches`, () => {
      const source = sources.find((s) => s.topic === topic)!;
      const valueColumns = source.columns.filter((c) => !c.key);
      const keyColumns = source.columns.filter((c) => c.key);
      const ofTopic = records.filter((r) => r.topic === topic);
      expect(ofTopic.length).toBeGreaterThan(50);
      for (const record of ofTopic) {
        const value = JSON.parse(record.value) as Record<string, unknown>;
        // ksqlDB upper-cases unquoted identifiers and matches JSON fields exactly, then upper-cased: a field must
        // be spelled as in the template or fully upper-case.
        for (const field of Object.keys(value)) {
          expect(
            valueColumns.some((c) => field === c.name || field === c.name.toUpperCase()),
            `${topic}.${field}`,
          ).toBe(true);
        }
        for (const column of valueColumns) {
          const field = column.name in value ? column.name : column.name.toUpperCase();
          expect(
            conforms(value[field], column.type),
            `${topic}.${column.name}=${JSON.stringify(value[field])} is ${column.type}`,
          ).toBe(true);
        }
        expect(Object.keys(value)).toHaveLength(valueColumns.length);
        expect(typeof record.key).toBe('string');
        expect(record.key.length).toBeGreaterThan(0);
        for (const key of keyColumns) {
          // KEY_FORMAT KAFKA + VARCHAR: the key is the raw UTF-8 string, not JSON
          expect(source.keyFormat).toBe('KAFKA');
          expect(key.type).toBe('VARCHAR');
          expect(record.key.startsWith('"')).toBe(false);
        }
        expect(Number.isSafeInteger(record.timestamp)).toBe(true);
      }
    });
  }

  it('the same seed gives the same records; another seed gives different ones', async () => {
    const again = generate(pools, 42, 20);
    expect(again).toEqual(records);
    const otherPools = await buildWordPools(43);
    const other = generate(otherPools, 43, 20);
    expect(other.slice(0, 20)).not.toEqual(records.slice(0, 20));
  });
});
