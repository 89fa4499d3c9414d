import { ErrorCodes, KsqlError } from '../errors.js';
import { DEV_SERVER_VERSION, type Engine } from '../engine/engine.js';
import { parseJsonExact } from '../engine/exact-json.js';
import { jsonRowEncoder } from '../engine/serde.js';
import type { PushQuery } from '../engine/push-query.js';
import { isHttp2, readBody, type Request, type Response } from './transport.js';
import { handleInsertsStream } from './inserts-stream.js';
import { sendError, sendJson } from './responses.js';

/**
 * Says whether basic-auth credentials may make a request: true, false (401: not authenticated), or 'forbidden'
 * (403: authenticated, but not allowed this request, as a key without a role binding is on Confluent Cloud).
 */
export type Authorizer = (
  key: string,
  secret: string,
  request: { method: string; path: string },
) => boolean | 'forbidden';

export interface HandlerOptions {
  engine: Engine;
  /** When set, every request except the bare liveness probes needs valid basic-auth credentials. */
  authorize?: Authorizer;
  kafkaClusterId: () => string;
  kafkaHealthy: () => Promise<boolean>;
  hostPort: () => string;
  logger: { warn(message: string): void };
}

const DELIMITED = 'application/vnd.ksqlapi.delimited.v1';
const LEGACY_JSON = 'application/vnd.ksql.v1+json';

function parseJsonBody(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : parseJsonExact(text);
  } catch (error) {
    throw new KsqlError(ErrorCodes.badRequest, `Invalid JSON in request: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new KsqlError(ErrorCodes.badRequest, 'Invalid JSON in request: expected an object');
  return parsed as Record<string, unknown>;
}

function objectField(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = body[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new KsqlError(ErrorCodes.badRequest, `Invalid JSON in request: '${name}' must be an object`);
  return value as Record<string, unknown>;
}

function checkAuth(
  req: Request,
  authorize: HandlerOptions['authorize'],
  request: { method: string; path: string },
): boolean | 'forbidden' {
  if (!authorize) return true;
  const header = req.headers['authorization'];
  if (typeof header !== 'string' || !header.toLowerCase().startsWith('basic ')) return false;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return authorize(decoded.slice(0, colon), decoded.slice(colon + 1), request);
}

export function createHandler(options: HandlerOptions) {
  const { engine } = options;
  return (req: Request, res: Response): void => {
    void route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error);
      else res.end();
    });
  };

  async function route(req: Request, res: Response): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/chc/live' || path === '/chc/ready') return sendJson(res, 200, {});
    const allowed = checkAuth(req, options.authorize, { method, path });
    if (allowed === 'forbidden') {
      return sendJson(res, 403, {
        '@type': 'generic_error',
        error_code: ErrorCodes.forbidden,
        message: 'You are forbidden from using this cluster.',
      });
    }
    if (!allowed) {
      return sendJson(
        res,
        401,
        { '@type': 'generic_error', error_code: ErrorCodes.unauthorized, message: 'Unauthorized' },
        { 'www-authenticate': 'Basic realm="KsqlServer"' },
      );
    }
    if (method === 'GET') {
      if (path === '/') {
        res.writeHead(307, { location: '/info' });
        res.end();
        return;
      }
      if (path === '/info') {
        return sendJson(res, 200, {
          KsqlServerInfo: {
            version: DEV_SERVER_VERSION,
            kafkaClusterId: options.kafkaClusterId(),
            ksqlServiceId: engine.serviceId,
            serverStatus: 'RUNNING',
          },
        });
      }
      if (path === '/healthcheck') {
        const kafka = await options.kafkaHealthy();
        return sendJson(res, 200, {
          isHealthy: kafka,
          details: { metastore: { isHealthy: true }, kafka: { isHealthy: kafka }, commandRunner: { isHealthy: true } },
          serverState: 'READY',
        });
      }
      if (path === '/clusterStatus') {
        const now = Date.now();
        return sendJson(res, 200, {
          clusterStatus: {
            [options.hostPort()]: {
              hostAlive: true,
              lastStatusUpdateMs: now,
              activeStandbyPerQuery: {},
              hostStoreLags: { stateStoreLags: {}, updateTimeMs: now },
            },
          },
        });
      }
      if (path === '/status') {
        return sendJson(res, 200, {
          commandStatuses: Object.fromEntries([...engine.commandStatuses].map(([id, s]) => [id, s.status])),
        });
      }
      const status = /^\/status\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
      if (status) {
        const commandId = `${decodeURIComponent(status[1]!)}/${decodeURIComponent(status[2]!)}/${decodeURIComponent(status[3]!)}`;
        const found = engine.commandStatuses.get(commandId);
        if (!found)
          return sendJson(res, 404, {
            '@type': 'generic_error',
            error_code: ErrorCodes.notFound,
            message: 'Command not found',
          });
        return sendJson(res, 200, found);
      }
      const property = /^\/is_valid_property\/(.+)$/.exec(path);
      if (property) {
        const name = decodeURIComponent(property[1]!);
        if (/^(ksql\.streams\.)?auto\.offset\.reset$/.test(name) || name.startsWith('ksql.'))
          return sendJson(res, 200, true);
        return sendJson(res, 400, {
          '@type': 'generic_error',
          error_code: ErrorCodes.badRequest,
          message: `Not recognizable as ksql, streams, consumer, or producer property: '${name}'`,
        });
      }
    }
    if (method === 'POST') {
      switch (path) {
        case '/ksql':
          return handleKsql(req, res);
        case '/query-stream':
          return handleQueryStream(req, res);
        case '/close-query':
          return handleCloseQuery(req, res);
        case '/inserts-stream':
          if (!isHttp2(req)) {
            await readBody(req).catch(() => '');
            return sendError(
              res,
              new KsqlError(ErrorCodes.http2Only, 'This endpoint is only available when using HTTP2'),
            );
          }
          return handleInsertsStream(req, res, engine);
      }
    }
    return sendJson(res, 404, {
      '@type': 'generic_error',
      error_code: ErrorCodes.notFound,
      message: `No route for ${method} ${path}`,
    });
  }

  async function handleKsql(req: Request, res: Response): Promise<void> {
    const body = parseJsonBody(await readBody(req));
    const ksql = body['ksql'];
    if (typeof ksql !== 'string')
      throw new KsqlError(ErrorCodes.badRequest, "Invalid JSON in request: 'ksql' must be a string");
    const sequence = body['commandSequenceNumber'];
    if (typeof sequence === 'number' && sequence >= 0) await engine.waitForSequence(sequence);
    const entities = await engine.executeRequest(
      ksql,
      objectField(body, 'streamsProperties'),
      objectField(body, 'sessionVariables'),
    );
    sendJson(res, 200, entities);
  }

  async function handleCloseQuery(req: Request, res: Response): Promise<void> {
    const body = parseJsonBody(await readBody(req));
    const queryId = body['queryId'];
    if (typeof queryId !== 'string' || !(await engine.closePushQuery(queryId))) {
      throw new KsqlError(ErrorCodes.badRequest, `No query with id ${String(queryId)}`);
    }
    res.writeHead(200);
    res.end();
  }

  async function handleQueryStream(req: Request, res: Response): Promise<void> {
    const body = parseJsonBody(await readBody(req));
    const sql = body['sql'];
    if (typeof sql !== 'string')
      throw new KsqlError(ErrorCodes.badRequest, "Invalid JSON in request: 'sql' must be a string");
    const accept = String(req.headers['accept'] ?? '');
    const format = accept.includes(DELIMITED)
      ? 'delimited'
      : accept.includes(LEGACY_JSON)
        ? 'legacy'
        : accept.includes('application/json')
          ? 'json'
          : 'delimited';
    const prepared = await engine.prepareQuery(
      sql,
      objectField(body, 'properties'),
      objectField(body, 'sessionVariables'),
    );
    const writer = new QueryStreamWriter(res, format, jsonRowEncoder(prepared.types));
    const header = { queryId: prepared.queryId, columnNames: prepared.columnNames, columnTypes: prepared.columnTypes };

    if (prepared.rows) {
      writer.start(header, prepared.columnNames, prepared.columnTypes);
      for (const row of prepared.rows) writer.row(row);
      writer.end();
      return;
    }
    let push: PushQuery | undefined;
    let closed = false;
    const pending: unknown[][] = [];
    let started = false;
    let ended: { error?: Error } | undefined;
    res.on('close', () => {
      closed = true;
      if (push) void engine.closePushQuery(prepared.queryId);
    });
    push = await prepared.startPush!(
      (values) => {
        if (closed) return;
        if (started) writer.row(values);
        else pending.push(values);
      },
      (error) => {
        if (closed) return;
        if (!started) {
          ended = { error };
          return;
        }
        if (error) writer.error(error.message);
        else writer.end(true);
      },
    );
    if (closed) {
      await engine.closePushQuery(prepared.queryId);
      return;
    }
    writer.start(header, prepared.columnNames, prepared.columnTypes);
    started = true;
    for (const values of pending) writer.row(values);
    if (ended) {
      if (ended.error) writer.error(ended.error.message);
      else writer.end(true);
    }
  }
}

/** Writes /query-stream output in the format the client asked for. */
class QueryStreamWriter {
  private finished = false;

  constructor(
    private readonly res: Response,
    private readonly format: 'delimited' | 'json' | 'legacy',
    private readonly encodeRow: (values: unknown[]) => string,
  ) {}

  start(
    header: { queryId: string; columnNames: string[]; columnTypes: string[] },
    names: string[],
    types: string[],
  ): void {
    const contentType =
      this.format === 'delimited' ? DELIMITED : this.format === 'legacy' ? LEGACY_JSON : 'application/json';
    this.res.writeHead(200, { 'content-type': contentType });
    if (this.format === 'delimited') this.write(JSON.stringify(header) + '\n');
    else if (this.format === 'json') this.write('[' + JSON.stringify(header));
    else {
      const schema = names.map((n, i) => `\`${n}\` ${types[i]}`).join(', ');
      this.write('[' + JSON.stringify({ header: { queryId: header.queryId, schema } }));
    }
  }

  row(values: unknown[]): void {
    if (this.finished) return;
    const row = this.encodeRow(values);
    if (this.format === 'delimited') this.write(row + '\n');
    else if (this.format === 'json') this.write(',' + row);
    else this.write(',\n{"row":{"columns":' + row + '}}');
  }

  error(message: string): void {
    if (this.finished) return;
    const error = { '@type': 'generic_error', error_code: ErrorCodes.serverError, message };
    if (this.format === 'delimited') this.write(JSON.stringify(error) + '\n');
    else if (this.format === 'json') this.write(',' + JSON.stringify(error) + ']');
    else this.write(',\n' + JSON.stringify({ errorMessage: error }) + ']');
    this.finished = true;
    this.res.end();
  }

  end(limitReached = false): void {
    if (this.finished) return;
    this.finished = true;
    if (this.format === 'json') this.write(']');
    else if (this.format === 'legacy')
      this.write((limitReached ? ',\n' + JSON.stringify({ finalMessage: 'Limit Reached' }) : '') + ']');
    this.res.end();
  }

  private write(text: string): void {
    (this.res as { write(chunk: string): boolean }).write(text);
  }
}
