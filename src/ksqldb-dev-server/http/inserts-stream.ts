import { ErrorCodes, KsqlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { parseJsonExact } from '../engine/exact-json.js';
import { jsonParser } from '../engine/serde.js';
import { tokenize } from '../sql/lexer.js';
import type { Request, Response } from './transport.js';
import { sendError } from './responses.js';

/** Resolves an identifier as ksqlDB does: unquoted names are upper-cased, backticked ones kept as written. */
function identifier(name: string): string {
  const trimmed = name.trim();
  if (trimmed.startsWith('`') && trimmed.endsWith('`')) return trimmed.slice(1, -1);
  try {
    const tokens = tokenize(trimmed);
    if (tokens.length === 2 && tokens[0]!.type === 'word') return tokens[0]!.value;
  } catch {
    // fall through
  }
  return trimmed.toUpperCase();
}

/**
 * POST /inserts-stream (HTTP/2): the first line names the target, every further line is a row; each row is acknowledged
 * with its sequence number once Kafka has it.
 */
export async function handleInsertsStream(req: Request, res: Response, engine: Engine): Promise<void> {
  let buffered = '';
  let seq = 0;
  let target: string | undefined;
  // Rows are parsed for the target's columns: a DECIMAL keeps every digit written.
  let parseRow: (text: string) => unknown = parseJsonExact;
  let failed = false;
  const acks: Promise<void>[] = [];
  const write = (body: unknown) => {
    if (!res.writableEnded) (res as { write(chunk: string): boolean }).write(JSON.stringify(body) + '\n');
  };

  const handleLine = (line: string): void => {
    if (line.trim() === '' || failed) return;
    let parsed: unknown;
    try {
      parsed = parseRow(line);
    } catch {
      if (target === undefined) throw new KsqlError(ErrorCodes.badRequest, 'Invalid JSON in inserts stream');
      write({ status: 'error', seq, error_code: ErrorCodes.badRequest, message: 'Invalid JSON in inserts stream' });
      failed = true;
      return;
    }
    if (target === undefined) {
      const name = (parsed as { target?: unknown }).target;
      if (typeof name !== 'string')
        throw new KsqlError(ErrorCodes.badRequest, 'Invalid JSON in inserts stream: missing target');
      const resolved = identifier(name);
      const source = engine.sources.get(resolved);
      if (!source)
        throw new KsqlError(ErrorCodes.badStatement, `Cannot insert values into an unknown stream/table: ${resolved}`);
      if (source.writeQueryId)
        throw new KsqlError(
          ErrorCodes.badStatement,
          `Cannot insert values into read-only ${source.type.toLowerCase()}: ${resolved}`,
        );
      target = resolved;
      parseRow = jsonParser(source.columns);
      res.writeHead(200, { 'content-type': 'application/vnd.ksqlapi.delimited.v1' });
      return;
    }
    const rowSeq = seq++;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      write({ status: 'error', seq: rowSeq, error_code: ErrorCodes.badRequest, message: 'Row must be a JSON object' });
      return;
    }
    const row: Record<string, unknown> = {};
    let duplicate: string | undefined;
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      const column = identifier(key);
      if (column in row) duplicate = column;
      row[column] = value;
    }
    if (duplicate) {
      write({
        status: 'error',
        seq: rowSeq,
        error_code: ErrorCodes.badRequest,
        message: `Duplicate column name: ${duplicate}`,
      });
      return;
    }
    acks.push(
      engine.insertRow(target, row).then(
        () => write({ status: 'ok', seq: rowSeq }),
        (error: Error) =>
          write({ status: 'error', seq: rowSeq, error_code: ErrorCodes.badRequest, message: error.message }),
      ),
    );
  };

  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        handleLine(line);
      }
      if (failed) break;
    }
    if (!failed) handleLine(buffered);
    if (target === undefined)
      throw new KsqlError(ErrorCodes.badRequest, 'Invalid JSON in inserts stream: missing target');
    await Promise.all(acks);
    res.end();
  } catch (error) {
    await Promise.all(acks);
    if (!res.headersSent) sendError(res, error);
    else res.end();
  }
}
