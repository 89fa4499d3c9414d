import { ErrorCodes, KsqlError } from '../errors.js';
import type { Response } from './transport.js';

export function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: Response, error: unknown): void {
  const ksqlError =
    error instanceof KsqlError
      ? error
      : new KsqlError(ErrorCodes.serverError, (error as Error)?.message ?? String(error));
  sendJson(res, ksqlError.httpStatus, ksqlError.toJSON());
}
