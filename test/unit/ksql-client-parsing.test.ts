import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseColumnType, typeValue } from '../../src/ksql-client/column-types.js';
import { parseStreamLine, readLines } from '../../src/ksql-client/delimited.js';
import { exactNumber, numberToken, parseJson, stringifyJson } from '../../src/json/exact-json.js';

function typedRow(line: string, types: string[]): unknown[] {
  const message = parseStreamLine(line);
  if (message.kind !== 'row') throw new Error(`not a row: ${line}`);
  return message.values.map((value, i) => typeValue(value, parseColumnType(types[i]!)));
}

describe('exact JSON', () => {
  it('keeps integers beyond 2^53 exact as bigint and leaves safe ones as numbers', () => {
    const parsed = parseJson('{"big":9007199254740993,"small":42,"neg":-9223372036854775808,"frac":1.5}') as Record<
      string,
      unknown
    >;
    expect(parsed.big).toBe(9007199254740993n);
    expect(parsed.small).toBe(42);
    expect(parsed.neg).toBe(-9223372036854775808n);
    expect(parsed.frac).toBe(1.5);
    // what JSON.parse would have done
    expect(JSON.parse('9007199254740993')).toBe(9007199254740992);
  });

  it('parses the same values as JSON.parse for ordinary documents', () => {
    const text = '{"a":[1,2.5e3,-0.25,true,false,null],"s":"q\\"u\\\\o\\nte \\u00e9","nested":{"x":{}} ,"e":[]}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it('keeps a __proto__ key as data', () => {
    const parsed = parseJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects malformed JSON with a position', () => {
    expect(() => parseJson('[1,2')).toThrow(/end of JSON/);
    expect(() => parseJson('{"a" 1}')).toThrow(/expected ':'/);
    expect(() => parseJson('[1] x')).toThrow(/after the JSON value/);
    expect(() => parseJson('[01]')).toThrow();
  });

  it('writes bigint as a plain JSON number', () => {
    expect(stringifyJson({ id: 9007199254740993n, n: 1, s: 'x', skip: undefined, list: [1n, null] })).toBe(
      '{"id":9007199254740993,"n":1,"s":"x","list":[1,null]}',
    );
    const roundTrip = parseJson(stringifyJson({ v: 123456789012345678901234567890n }), exactNumber) as { v: bigint };
    expect(roundTrip.v).toBe(123456789012345678901234567890n);
  });

  it('hands raw number text to a reviver', () => {
    expect(parseJson('[1.10, 2]', (raw) => raw)).toEqual(['1.10', '2']);
    expect((parseJson('[12]', numberToken) as { raw: string }[])[0]!.raw).toBe('12');
  });
});

describe('column types', () => {
  it('parses nested types the way the header spells them', () => {
    expect(parseColumnType('DECIMAL(4, 2)')).toEqual({ kind: 'DECIMAL', precision: 4, scale: 2 });
    expect(parseColumnType('ARRAY<MAP<STRING, BIGINT>>')).toEqual({
      kind: 'ARRAY',
      items: { kind: 'MAP', keys: { kind: 'SCALAR', name: 'STRING' }, values: { kind: 'SCALAR', name: 'BIGINT' } },
    });
    expect(parseColumnType('STRUCT<`F1` STRING, `odd``name` BIGINT>')).toEqual({
      kind: 'STRUCT',
      fields: [
        { name: 'F1', type: { kind: 'SCALAR', name: 'STRING' } },
        { name: 'odd`name', type: { kind: 'SCALAR', name: 'BIGINT' } },
      ],
    });
    expect(() => parseColumnType('ARRAY<STRING')).toThrow(/expected '>'/);
  });

  it('types a row: BIGINT always bigint (exact past 2^53), DOUBLE number, DECIMAL exact text', () => {
    const row = typedRow('["v1",9007199254740993,7,-33.86,12.50,true,null]', [
      'STRING',
      'BIGINT',
      'BIGINT',
      'DOUBLE',
      'DECIMAL(4, 2)',
      'BOOLEAN',
      'BIGINT',
    ]);
    expect(row).toEqual(['v1', 9007199254740993n, 7n, -33.86, '12.50', true, null]);
  });

  it('types BIGINTs inside arrays, maps and structs', () => {
    const row = typedRow('[[9007199254740993,1],{"a":9007199254740995},{"ID":18014398509481985,"NAME":"x","D":1.5}]', [
      'ARRAY<BIGINT>',
      'MAP<STRING, BIGINT>',
      'STRUCT<`ID` BIGINT, `NAME` STRING, `D` DOUBLE>',
    ]);
    expect(row).toEqual([
      [9007199254740993n, 1n],
      { a: 9007199254740995n },
      { ID: 18014398509481985n, NAME: 'x', D: 1.5 },
    ]);
  });

  it('keeps unknown types exact without guessing', () => {
    const row = typedRow('[9007199254740993, 3]', ['SOMETHING_NEW', 'SOMETHING_NEW']);
    expect(row).toEqual([9007199254740993n, 3]);
  });
});

describe('delimited /query-stream lines', () => {
  it('tells header, row, error and token lines apart', () => {
    expect(
      parseStreamLine('{"queryId":"transient_X_1","columnNames":["ID","N"],"columnTypes":["STRING","BIGINT"]}'),
    ).toEqual({
      kind: 'header',
      queryId: 'transient_X_1',
      columnNames: ['ID', 'N'],
      columnTypes: ['STRING', 'BIGINT'],
    });
    expect(parseStreamLine('["a",1]').kind).toBe('row');
    expect(parseStreamLine('{"@type":"generic_error","error_code":50000,"message":"boom"}')).toEqual({
      kind: 'error',
      error: { '@type': 'generic_error', error_code: 50000, message: 'boom' },
    });
    expect(parseStreamLine('{"consistencyToken":"abc"}')).toEqual({
      kind: 'token',
      consistencyToken: 'abc',
      continuationToken: undefined,
    });
  });

  it('splits lines across arbitrary chunk boundaries, including inside a multi-byte character', async () => {
    const text = '{"columnNames":["N"]}\n["é",9007199254740993]\n\n\r\n["z",2]';
    const bytes = Buffer.from(text, 'utf8');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    const lines: string[] = [];
    for await (const line of readLines(Readable.from(chunks))) lines.push(line);
    expect(lines).toEqual(['{"columnNames":["N"]}', '["é",9007199254740993]', '["z",2]']);
  });

  it('reads no further than the consumer asks (back-pressure)', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield Buffer.from(`[${i}]\n`);
      }
    }
    const lines = readLines(source());
    await lines.next();
    await lines.next();
    expect(pulled).toBeLessThanOrEqual(3);
    await lines.return(undefined);
  });
});
