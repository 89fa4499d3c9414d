import { PassThrough, type Readable } from 'node:stream';
import { isCliError } from '../core/errors.js';
import type { SecretRegistry } from '../core/redact.js';
import { asError, isClassifiedError } from '../core/errors.js';
import { systemClock, waitFor, type Clock } from '../core/waiter.js';
import { readLines, parseStreamLine } from './delimited.js';
import {
  FINAL_COMMAND_STATES,
  isEntity,
  type CommandStatus,
  type CurrentStatusEntity,
  type HealthCheck,
  type KafkaTopicInfo,
  type KsqlEntity,
  type QueryInfo,
  type ServerInfo,
  type SourceDescription,
  type SourceInfo,
} from './entities.js';
import {
  commandFailed,
  connectionError,
  errorFromResponse,
  ErrorCode,
  isKsqlError,
  KsqlConnectionError,
  KsqlError,
  KsqlRequestError,
  parseErrorBody,
  type ErrorContext,
} from './errors.js';
import { InsertsStream } from './inserts-stream.js';
import { stringifyJson } from '../json/exact-json.js';
import { splitStatements, SqlSplitError } from './statements.js';
import { type KsqlRow, StreamedQuery } from './streamed-query.js';
import {
  Http2RefusedError,
  RequestTimeoutError,
  Transport,
  type HttpExchange,
  type ProtocolPreference,
  type TlsOptions,
  type WireProtocol,
} from './transport.js';

export interface BasicAuth {
  username: string;
  password: string;
  /** Where these came from, named in the 401 message ("the ksqlDB API key in .marketplace/state.json"). */
  source?: string;
}

export interface KsqlClientOptions {
  /** http(s)://host:port of the ksqlDB server (a path prefix is kept). */
  url: string;
  auth?: BasicAuth;
  tls?: TlsOptions;
  /** Default `auto`: HTTP/2 when the server accepts it, else HTTP/1.1 (inserts-stream then fails). */
  protocol?: ProtocolPreference;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** The password (and its basic-auth form) is registered here so no output can show it. */
  secrets?: SecretRegistry;
  /** Properties sent with every statement (`streamsProperties`) and query (`properties`). */
  properties?: Record<string, unknown>;
  /** Initial session variables (see define()). */
  variables?: Record<string, unknown>;
  /** How long the server may take to answer one request (choosing HTTP/2 or HTTP/1.1 included); default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How long to wait for a QUEUED/EXECUTING statement to finish. */
  commandTimeoutMs?: number;
  /** Cap on rows executeQuery collects (the Java client's executeQueryMaxResultRows). */
  executeQueryMaxResultRows?: number;
  clock?: Clock;
  /** Ctrl-C: every request and wait of this client ends at once, throwing the signal's reason. */
  signal?: AbortSignal;
  /** Hint shown when the server cannot be reached (e.g. how to start it). */
  unreachableHint?: string;
  /**
   * For this long from the client's first request, a request answered 401 or 403 is sent again (with backoff on
   * `clock`): a new API key or role binding takes a while to be effective on every node, and nothing reports when.
   * Off by default.
   */
  authRetryMs?: number;
  onCommandProgress?: (commandId: string, status: string) => void;
}

export interface StatementOptions {
  /** Merged over the client's properties for this request only. */
  properties?: Record<string, unknown>;
}

export interface QueryResult {
  queryId: string | undefined;
  columnNames: string[];
  columnTypes: string[];
  rows: KsqlRow[];
}

const ACCEPT_JSON = 'application/vnd.ksql.v1+json, application/json;q=0.9';
const DELIMITED = 'application/vnd.ksqlapi.delimited.v1';

/**
 * A ksqlDB REST client with the features of ksqlDB's Java client: statements over /ksql (waiting for queued
 * commands and chaining commandSequenceNumber like the ksqlDB CLI), push and pull queries over /query-stream with
 * exact BIGINTs, /close-query, /inserts-stream with acks, listings, describe, /info and /healthcheck, and session
 * variables. Call close() when done.
 */
export class KsqlClient {
  readonly url: string;
  /** Highest commandSequenceNumber seen; sent with the next /ksql request so it runs after that command. */
  lastCommandSequenceNumber: number | undefined;
  private readonly transport: Transport;
  private readonly options: KsqlClientOptions;
  private readonly properties: Record<string, unknown>;
  private readonly variables: Record<string, unknown>;
  private readonly authorization: string | undefined;

  constructor(options: KsqlClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new KsqlRequestError(`not a valid ksqlDB URL: ${options.url}`, {
        errorCode: 0,
        serverMessage: 'invalid URL',
        hint: 'Give an http:// or https:// URL such as http://127.0.0.1:8088.',
      });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new KsqlRequestError(`not an http(s) URL: ${options.url}`, {
        errorCode: 0,
        serverMessage: 'invalid URL',
        hint: 'Give an http:// or https:// URL such as http://127.0.0.1:8088.',
      });
    }
    this.options = options;
    this.url = base.toString().replace(/\/$/, '');
    this.properties = { ...options.properties };
    this.variables = { ...options.variables };
    if (options.auth) {
      options.secrets?.addCredentialPair(options.auth.username, options.auth.password);
      this.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
    }
    this.transport = new Transport({
      baseUrl: base,
      protocol: options.protocol ?? 'auto',
      tls: options.tls,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    });
  }

  /** The protocol in use (connects to find out, when not decided yet). */
  async protocol(): Promise<WireProtocol> {
    try {
      return await this.transport.protocol();
    } catch (error) {
      throw this.transportFailure(error);
    }
  }

  close(): void {
    this.transport.close();
  }

  // ---- session variables and properties -------------------------------------------------------------------

  /** Sets a variable for ${name} substitution in every later statement and query (sent as sessionVariables). */
  define(name: string, value: unknown): void {
    this.variables[name] = value;
  }

  undefine(name: string): void {
    delete this.variables[name];
  }

  getVariables(): Record<string, unknown> {
    return { ...this.variables };
  }

  /** Like the ksqlDB CLI's SET: applies to every later statement and query of this client. */
  setProperty(name: string, value: unknown): void {
    this.properties[name] = value;
  }

  unsetProperty(name: string): void {
    delete this.properties[name];
  }

  getProperties(): Record<string, unknown> {
    return { ...this.properties };
  }

  // ---- statements -----------------------------------------------------------------------------------------

  /** Runs exactly one statement (not a SELECT) and returns its entity, once the command finished. */
  async executeStatement(sql: string, options: StatementOptions = {}): Promise<KsqlEntity> {
    let statements: ReturnType<typeof splitStatements>;
    try {
      statements = splitStatements(sql);
    } catch (error) {
      if (!(error instanceof SqlSplitError)) throw error;
      throw new KsqlRequestError(`line ${error.line}:${error.column}: ${error.message}`, {
        errorCode: ErrorCode.badStatement,
        serverMessage: error.message,
        statementText: sql,
        hint: 'Close the quote or comment.',
      });
    }
    if (statements.length !== 1) {
      throw new KsqlRequestError(
        statements.length === 0
          ? 'no statement given'
          : `executeStatement takes one statement, got ${statements.length}`,
        {
          errorCode: ErrorCode.badRequest,
          serverMessage: 'client-side check',
          hint: 'Use executeStatements for several.',
        },
      );
    }
    const [entity] = await this.executeStatements(statements[0]!.text, options);
    if (!entity) {
      // INSERT … VALUES produces no entity.
      return { '@type': 'empty', statementText: statements[0]!.text };
    }
    return entity;
  }

  /**
   * Sends the text as one /ksql request (the server validates all statements before running any) and returns one
   * entity per statement, after waiting for every queued command to reach a final state. A command that ends in
   * ERROR throws.
   */
  async executeStatements(sql: string, options: StatementOptions = {}): Promise<KsqlEntity[]> {
    const body: Record<string, unknown> = {
      ksql: sql,
      streamsProperties: { ...this.properties, ...options.properties },
      sessionVariables: this.variables,
    };
    if (this.lastCommandSequenceNumber !== undefined) body.commandSequenceNumber = this.lastCommandSequenceNumber;
    const entities = (await this.call('POST', '/ksql', stringifyJson(body), sql)) as KsqlEntity[];
    if (!Array.isArray(entities)) {
      throw new KsqlError('ksqlDB answered /ksql with something that is not a list of results', {
        errorCode: ErrorCode.serverError,
        serverMessage: JSON.stringify(entities).slice(0, 200),
        hint: 'Check that the URL points at a ksqlDB server.',
      });
    }
    const results: KsqlEntity[] = [];
    for (const entity of entities) {
      if (isEntity(entity, 'currentStatus')) {
        this.noteSequenceNumber(entity.commandSequenceNumber);
        results.push(await this.settle(entity));
      } else {
        results.push(entity);
      }
    }
    return results;
  }

  /** GET /status/{commandId}: a command's current status. */
  async commandStatus(commandId: string): Promise<CommandStatus> {
    const path = `/status/${commandId.split('/').map(encodeURIComponent).join('/')}`;
    return (await this.call('GET', path)) as CommandStatus;
  }

  private async settle(entity: CurrentStatusEntity): Promise<CurrentStatusEntity> {
    let status = entity.commandStatus;
    if (!FINAL_COMMAND_STATES.has(status.status)) {
      status = await waitFor(
        async () => {
          let current: CommandStatus;
          try {
            current = await this.commandStatus(entity.commandId);
          } catch (error) {
            // A node that has not read the command topic that far yet does not know the id: keep waiting.
            if (isKsqlError(error) && error.errorCode === ErrorCode.notFound)
              return { done: false, status: 'not known yet' };
            throw error;
          }
          this.options.onCommandProgress?.(entity.commandId, current.status);
          return FINAL_COMMAND_STATES.has(current.status)
            ? { done: true, value: current }
            : { done: false, status: current.status };
        },
        {
          what: `ksqlDB command ${entity.commandId} to finish`,
          timeoutMs: this.options.commandTimeoutMs ?? 120_000,
          initialDelayMs: 200,
          maxDelayMs: 2_000,
          clock: this.options.clock ?? systemClock,
          signal: this.options.signal,
          hint: `Check it later with GET ${this.url}/status/${entity.commandId}.`,
        },
      );
    }
    if (status.status === 'ERROR') throw commandFailed(entity.statementText, status.message, entity.commandId);
    return { ...entity, commandStatus: status };
  }

  private noteSequenceNumber(sequence: number | undefined): void {
    if (typeof sequence !== 'number' || sequence < 0) return;
    if (this.lastCommandSequenceNumber === undefined || sequence > this.lastCommandSequenceNumber) {
      this.lastCommandSequenceNumber = sequence;
    }
  }

  // ---- listings -------------------------------------------------------------------------------------------

  async listStreams(): Promise<SourceInfo[]> {
    const entity = await this.single('LIST STREAMS;', 'streams');
    return entity.streams;
  }

  async listTables(): Promise<SourceInfo[]> {
    const entity = await this.single('LIST TABLES;', 'tables');
    return entity.tables;
  }

  async listTopics(): Promise<KafkaTopicInfo[]> {
    const entity = await this.single('LIST TOPICS;', 'kafka_topics');
    return entity.topics;
  }

  async listQueries(): Promise<QueryInfo[]> {
    const entity = await this.single('LIST QUERIES;', 'queries');
    return entity.queries;
  }

  async describeSource(name: string): Promise<SourceDescription> {
    const entity = await this.single(`DESCRIBE ${quoteIdentifier(name)};`, 'sourceDescription');
    return entity.sourceDescription;
  }

  private async single<T extends 'streams' | 'tables' | 'kafka_topics' | 'queries' | 'sourceDescription'>(
    sql: string,
    type: T,
  ): Promise<Extract<KsqlEntity, { '@type': T }>> {
    const [entity] = await this.executeStatements(sql);
    if (!entity || entity['@type'] !== type) {
      throw new KsqlError(`ksqlDB answered "${sql}" with ${entity ? entity['@type'] : 'nothing'} instead of ${type}`, {
        errorCode: ErrorCode.serverError,
        serverMessage: 'unexpected entity',
        statementText: sql,
      });
    }
    return entity as Extract<KsqlEntity, { '@type': T }>;
  }

  // ---- server ---------------------------------------------------------------------------------------------

  async serverInfo(): Promise<ServerInfo> {
    const body = (await this.call('GET', '/info')) as { KsqlServerInfo?: ServerInfo };
    if (!body?.KsqlServerInfo) {
      throw new KsqlError(`${this.url}/info did not answer like ksqlDB`, {
        errorCode: ErrorCode.serverError,
        serverMessage: JSON.stringify(body).slice(0, 200),
        hint: 'Check that the URL points at a ksqlDB server.',
      });
    }
    return body.KsqlServerInfo;
  }

  async health(): Promise<HealthCheck> {
    return (await this.call('GET', '/healthcheck')) as HealthCheck;
  }

  // ---- queries --------------------------------------------------------------------------------------------

  /**
   * Starts a push or pull query on /query-stream and resolves once the header arrived (so queryId and the
   * columns are known). Iterate the result for rows.
   */
  async streamQuery(sql: string, options: StatementOptions = {}): Promise<StreamedQuery> {
    const body = stringifyJson({
      sql,
      properties: { ...this.properties, ...options.properties },
      sessionVariables: this.variables,
    });
    const exchange = await this.exchange({ method: 'POST', path: '/query-stream', body, accept: DELIMITED }, sql);
    if (exchange.status !== 200) throw await this.responseError(exchange, sql);
    const lines = readLines(exchange.body);
    const context = this.errorContext(sql);
    let first: IteratorResult<string, void>;
    try {
      first = await lines.next();
    } catch (error) {
      exchange.cancel();
      if (!isClassifiedError(error)) throw error;
      throw new KsqlConnectionError(`the connection to ksqlDB at ${this.url} dropped before the query started`, {
        cause: error,
        hint: 'Check that ksqlDB is still running, then run the query again.',
      });
    }
    if (first.done) {
      throw new KsqlError('ksqlDB ended the query stream without a header', {
        errorCode: ErrorCode.serverError,
        serverMessage: 'empty response',
        statementText: sql,
      });
    }
    const message = parseStreamLine(first.value);
    if (message.kind === 'error') {
      exchange.cancel();
      throw errorFromResponse(undefined, message.error, context);
    }
    if (message.kind !== 'header') {
      exchange.cancel();
      throw new KsqlError('ksqlDB started the query stream without a header', {
        errorCode: ErrorCode.serverError,
        serverMessage: first.value.slice(0, 200),
        statementText: sql,
      });
    }
    return new StreamedQuery({
      sql,
      exchange,
      header: message,
      lines,
      errorContext: context,
      closeQuery: (queryId) => this.terminatePushQuery(queryId),
    });
  }

  /** Runs a pull query (or a push query with LIMIT) to its end and returns every row. */
  async executeQuery(sql: string, options: StatementOptions = {}): Promise<QueryResult> {
    const max = this.options.executeQueryMaxResultRows ?? 10_000;
    const query = await this.streamQuery(sql, options);
    const rows: KsqlRow[] = [];
    for await (const row of query) {
      if (rows.length >= max) {
        throw new KsqlRequestError(`the query returned more than ${max} rows`, {
          errorCode: ErrorCode.badRequest,
          serverMessage: 'executeQueryMaxResultRows exceeded',
          statementText: sql,
          hint: 'Add a LIMIT or a WHERE clause, or use streamQuery to read rows as they come.',
        });
      }
      rows.push(row);
    }
    return { queryId: query.queryId, columnNames: query.columnNames, columnTypes: query.columnTypes, rows };
  }

  /** POST /close-query: stops a push query (ours or anybody's) by id. */
  async terminatePushQuery(queryId: string): Promise<void> {
    await this.call('POST', '/close-query', JSON.stringify({ queryId }));
  }

  // ---- inserts --------------------------------------------------------------------------------------------

  /** Opens an /inserts-stream to a stream (HTTP/2 only) and resolves once the server accepted the target. */
  async streamInserts(target: string, options: StatementOptions = {}): Promise<InsertsStream> {
    if ((await this.protocol()) !== 'HTTP/2') {
      throw new KsqlError(`ksqlDB at ${this.url} does not speak HTTP/2, which /inserts-stream needs`, {
        errorCode: ErrorCode.http2Only,
        serverMessage: 'HTTP/2 not available',
        hint: 'Use INSERT INTO … VALUES through executeStatement instead.',
      });
    }
    const requestBody = new PassThrough();
    const properties = { ...this.properties, ...options.properties };
    requestBody.write(`${stringifyJson({ target, properties })}\n`);
    const exchange = await this.exchange(
      { method: 'POST', path: '/inserts-stream', body: requestBody, accept: DELIMITED, requireHttp2: true },
      undefined,
    );
    if (exchange.status !== 200) {
      requestBody.destroy();
      throw await this.responseError(exchange, undefined);
    }
    return new InsertsStream(target, exchange, requestBody, this.errorContext(undefined));
  }

  /** Inserts one row and waits for its ack. */
  async insertInto(target: string, row: Record<string, unknown>): Promise<void> {
    const inserts = await this.streamInserts(target);
    try {
      await inserts.insert(row);
    } finally {
      await inserts.end();
    }
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------

  private errorContext(statementText: string | undefined): ErrorContext {
    return {
      url: this.url,
      credentials: this.options.auth
        ? { source: this.options.auth.source ?? 'the ksqlDB user name and password' }
        : undefined,
      statementText,
    };
  }

  private async exchange(
    request: { method: 'GET' | 'POST'; path: string; body?: string | Readable; accept: string; requireHttp2?: boolean },
    statementText: string | undefined,
  ): Promise<HttpExchange> {
    const headers: Record<string, string> = { accept: request.accept, ...this.options.headers };
    if (request.body !== undefined)
      headers['content-type'] = request.accept === DELIMITED ? 'application/json' : 'application/vnd.ksql.v1+json';
    if (this.authorization) headers.authorization = this.authorization;
    try {
      return await this.transport.request({
        method: request.method,
        path: request.path,
        headers,
        body: request.body,
        requireHttp2: request.requireHttp2,
        timeoutMs: this.options.requestTimeoutMs ?? 30_000,
        signal: this.options.signal,
      });
    } catch (error) {
      throw this.transportFailure(error, statementText);
    }
  }

  /** When the first request went out: the authRetryMs window counts from there. */
  private firstRequestAt: number | undefined;

  /** callOnce, with 401/403 asked again within the authRetryMs window. */
  private async call(method: 'GET' | 'POST', path: string, body?: string, statementText?: string): Promise<unknown> {
    const clock = this.options.clock ?? systemClock;
    this.firstRequestAt ??= clock.now();
    const windowLeft = this.firstRequestAt + (this.options.authRetryMs ?? 0) - clock.now();
    if (windowLeft <= 0) return this.callOnce(method, path, body, statementText);
    let refusal: unknown;
    let failed = false;
    try {
      return await waitFor(
        async () => {
          try {
            return { done: true, value: await this.callOnce(method, path, body, statementText) };
          } catch (error) {
            if (!isKsqlError(error) || (error.httpStatus !== 401 && error.httpStatus !== 403)) {
              failed = true;
              throw error;
            }
            refusal = error;
            return { done: false, status: `HTTP ${error.httpStatus}` };
          }
        },
        {
          what: `ksqlDB at ${this.url} to accept the credentials`,
          timeoutMs: windowLeft,
          initialDelayMs: 1_000,
          maxDelayMs: 10_000,
          clock,
          signal: this.options.signal,
        },
      );
    } catch (error) {
      // At the end of the window the server's own refusal says more than a timeout.
      if (refusal !== undefined && !failed && !this.options.signal?.aborted) throw refusal;
      throw error;
    }
  }

  /** A request whose whole answer is JSON; a non-2xx answer becomes the matching error. */
  private async callOnce(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    statementText?: string,
  ): Promise<unknown> {
    const exchange = await this.exchange({ method, path, body, accept: ACCEPT_JSON }, statementText);
    let text: string;
    try {
      text = await readText(exchange.body);
    } catch (error) {
      throw this.transportFailure(error, statementText);
    }
    if (exchange.status < 200 || exchange.status >= 300) {
      throw errorFromResponse(exchange.status, parseErrorBody(text), this.errorContext(statementText));
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new KsqlError(`ksqlDB answered ${method} ${path} with something that is not JSON`, {
        errorCode: ErrorCode.serverError,
        serverMessage: text.slice(0, 200),
        hint: 'Check that the URL points at a ksqlDB server.',
      });
    }
  }

  private async responseError(exchange: HttpExchange, statementText: string | undefined): Promise<Error> {
    let text = '';
    try {
      text = await readText(exchange.body);
    } catch {
      // the status alone has to do
    }
    return errorFromResponse(exchange.status, parseErrorBody(text), this.errorContext(statementText));
  }

  private transportFailure(error: unknown, statementText?: string): Error {
    // Our own errors (ksqlDB's answers, an interruption) say what happened already.
    if (isCliError(error)) return error;
    if (error instanceof Http2RefusedError) {
      return new KsqlConnectionError(`ksqlDB at ${this.url} did not accept HTTP/2`, {
        cause: error,
        hint: 'Let the client fall back to HTTP/1.1 (protocol auto), or check that the URL points at ksqlDB.',
      });
    }
    if (error instanceof RequestTimeoutError) {
      return new KsqlConnectionError(`ksqlDB at ${this.url} did not answer: ${error.message}`, {
        cause: error,
        code: error.code,
        hint:
          `${this.options.unreachableHint ?? 'Check that ksqlDB is running and answering.'} It may only be slow: ` +
          `requestTimeout (MARKETPLACE_REQUEST_TIMEOUT) gives it longer${statementText && !isReadOnly(statementText) ? '; check whether the statement ran (marketplace ksql list) before retrying' : ''}.`,
      });
    }
    if (this.options.signal?.aborted || !isClassifiedError(error)) return asError(error);
    return connectionError(this.url, error, this.options.unreachableHint);
  }
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Statements that change nothing: after a timeout there is nothing to check before running them again. */
function isReadOnly(sql: string): boolean {
  return /^\s*(LIST|SHOW|DESCRIBE|EXPLAIN|SELECT|PRINT)\b/i.test(sql);
}

/** Names as ksqlDB stores them are upper-case; anything else must be back-quoted to be found. */
function quoteIdentifier(name: string): string {
  return /^[A-Z_][A-Z0-9_]*$/.test(name)
    ? name
    : /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
      ? name.toUpperCase()
      : `\`${name.replace(/`/g, '``')}\``;
}
