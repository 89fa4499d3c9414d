import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Authorizer } from '../../../src/ksqldb-dev-server/index.js';
import type { AddressInfo } from 'node:net';
import { connectModule } from './connect.js';
import { bodyToCheck } from './contract.js';
import { registerControlPlane } from './control-plane.js';
import { reserveKsqlEndpoint, type ReservedEndpoint } from './ksql-endpoint.js';
import { FaultInjector, validateFaultSettings, type FaultRule, type FaultSettings } from './faults.js';
import {
  EmulatorHttpError,
  errorBody,
  familyOf,
  jettyTooManyRequestsPage,
  jettyUnauthorizedPage,
  v2Code,
  type ErrorFamily,
} from './http-error.js';
import { loadOpenApiSpecs, type OpenApiSpecs, type SpecOperation } from './openapi.js';
import { ExchangeRecorder } from './recorder.js';
import { kafkaRestModule } from './kafka-rest.js';
import { schemaRegistryModule } from './schema-registry.js';
import { flinkComputeModule } from './flink-compute.js';
import { flinkStatementsModule } from './flink-statements.js';
import { Router, type Auth, type Caller, type Reply, type ResourceAuthenticator } from './router.js';
import { openApiDir } from './spec-location.js';
import {
  apiKeyId,
  apiKeySecret,
  EmulatorState,
  shortId,
  REALISTIC_DURATIONS,
  type ClusterRecord,
  type KsqlClusterRecord,
  type PhaseDurations,
} from './state.js';

export interface KafkaBackendOptions {
  /** PLAINTEXT bootstrap the emulator itself uses (kafkajs admin). */
  plaintext: string;
  /** SASL_SSL bootstrap the clusters advertise to clients. */
  saslSsl: string;
  /** The broker's PLAIN users; each Kafka API key issued is one of them. */
  users: { username: string; password: string }[];
}

export interface ConnectBackendOptions {
  url: string;
  /** Where MongoDbAtlasSink connectors really write: the local FerretDB. */
  mongoUri: string;
}

/** The local Flink that runs the emulated Flink statements (the SQL Gateway and the JobManager's REST API). */
export interface FlinkBackendOptions {
  gatewayUrl: string;
  restUrl: string;
}

/**
 * Starts the server of a ksqlDB cluster once it is PROVISIONED, on the port its published endpoint names (it may
 * pick another when that port was taken meanwhile; the endpoint then moves with it).
 */
export interface KsqlBackend {
  start(
    cluster: KsqlClusterRecord,
    authorize: Authorizer,
    listen: { port: number },
  ): Promise<{ url: string; stop(): Promise<void> }>;
}

export interface EmulatorOptions {
  port?: number;
  /** Base URL clients are told about (links, http_endpoint); default http://127.0.0.1:<port>. */
  publicUrl?: string;
  /** Multiplies every phase duration: 0.001 makes a 2-minute provisioning take 120 ms. */
  timeScale?: number;
  durations?: Partial<PhaseDurations>;
  cloudCredentials?: { key: string; secret: string };
  /** Directory of the OpenAPI specs; null disables spec validation. Default: ../shared/reference/openapi. */
  specsDir?: string | null;
  /** JSONL file every exchange is appended to. */
  logFile?: string;
  faults?: FaultSettings;
  kafka?: KafkaBackendOptions;
  connect?: ConnectBackendOptions;
  ksql?: KsqlBackend;
  /** Without it, Flink statements stay PENDING (the control plane and the statement API still answer). */
  flink?: FlinkBackendOptions;
  /** Check each response against the spec and collect violations (on by default when specs are loaded). */
  validateResponses?: boolean;
  /**
   * Called for every exchange (not the /__emulator admin calls) after it was handled and just before the answer is
   * written, so a test can act at that exact moment (e.g. kill the client, making the answer a lost one).
   */
  onExchange?: (exchange: { method: string; path: string; status: number; fault?: string; delayedMs?: number }) => void;
}

export interface RunningEmulator {
  url: string;
  cloudCredentials: { key: string; secret: string };
  state: EmulatorState;
  faults: FaultInjector;
  specs?: OpenApiSpecs;
  logFile?: string;
  /** Responses that did not match the spec; a test asserts this stays empty. */
  responseViolations: string[];
  /** Failures inside the emulator itself (a handler or a clean-up that threw): its bugs, which a test asserts away. */
  internalErrors: string[];
  /** Hooks for the data-plane modules (Kafka REST, connect/v1). */
  router: Router;
  durations: PhaseDurations;
  /** Data-plane modules register here what a deleted Kafka cluster takes with it (topics, connectors). */
  clusterDeletedHooks: ((cluster: ClusterRecord) => Promise<void>)[];
  /** How the data planes other than Kafka REST check their keys (Schema Registry, Flink), by route auth kind. */
  resourceAuthenticators: Partial<Record<Auth, ResourceAuthenticator>>;
  /** The handler of every API request, for another listener that serves the same APIs (Flink's regional cell). */
  requestListener: (req: IncomingMessage, res: ServerResponse) => void;
  /** The regional Flink endpoint (fcpm/v2 regions' http_endpoint), once the statements module serves it. */
  flinkEndpoint?: string;
  /** Records a topic made in a cluster some other way (a connector's DLQ), so it goes with the cluster. */
  ownTopic?: (clusterId: string, name: string) => void;
  close(): Promise<void>;
}

/** Registers data-plane routes; implemented in kafka-rest.ts and connect.ts. */
export type DataPlaneModule = (
  emulator: RunningEmulator,
  options: EmulatorOptions,
) => void | (() => Promise<void>) | Promise<void | (() => Promise<void>)>;

/** The strict Confluent Cloud emulator: control plane, Kafka REST v3 and connect/v1 on one 127.0.0.1 port. */
export async function startConfluentCloudEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const modules: DataPlaneModule[] = [
    kafkaRestModule,
    connectModule,
    schemaRegistryModule,
    flinkComputeModule,
    flinkStatementsModule,
  ];
  const scale = options.timeScale ?? 1;
  const base = { ...REALISTIC_DURATIONS, ...options.durations };
  const durations = Object.fromEntries(
    Object.entries(base).map(([k, v]) => [k, v * scale]),
  ) as unknown as PhaseDurations;
  const cloudCredentials = options.cloudCredentials ?? { key: apiKeyId(), secret: apiKeySecret() };
  const specsDir = options.specsDir === null ? undefined : (options.specsDir ?? openApiDir());
  const specs = specsDir ? loadOpenApiSpecs(specsDir) : undefined;
  const validateResponses = options.validateResponses ?? true;
  const state = new EmulatorState();
  const faults = new FaultInjector(options.faults);
  const recorder = new ExchangeRecorder(options.logFile);
  recorder.addSecret(cloudCredentials.secret);
  recorder.addSecret(Buffer.from(`${cloudCredentials.key}:${cloudCredentials.secret}`).toString('base64'));
  const router = new Router();
  const kafkaUsers = [...(options.kafka?.users ?? [])];
  /** What serves each ksqlDB cluster's endpoint: a placeholder answering 503 until PROVISIONED, then the backend. */
  const ksqlServers = new Map<string, { url: string; stop(): Promise<void> }>();
  const ksqlPlaceholders = new Map<string, ReservedEndpoint>();
  let publicUrl = options.publicUrl ?? '';

  const emulator: RunningEmulator = {
    url: '',
    cloudCredentials,
    state,
    faults,
    specs,
    logFile: options.logFile,
    responseViolations: [],
    internalErrors: [],
    router,
    durations,
    clusterDeletedHooks: [],
    resourceAuthenticators: {},
    requestListener: () => undefined,
    close: async () => undefined,
  };

  /**
   * Basic auth on a ksqlDB cluster's endpoint, as Confluent Cloud checks it: the key must be one issued for this
   * cluster and past its propagation delay (else 401); statements also need a KsqlAdmin role binding for the key's
   * owner that the cluster's own view already holds (else 403; see ksqlAuthSyncMs). /info and /healthcheck only
   * authenticate, which is why their 200 proves little.
   */
  const ksqlAuthorizer =
    (cluster: KsqlClusterRecord): Authorizer =>
    (key, secret, request) => {
      const record = state.apiKeys.get(key);
      const now = Date.now();
      if (!record || record.secret !== secret || record.resource?.id !== cluster.id || now < record.usableAt)
        return false;
      if (['/', '/info', '/healthcheck'].includes(request.path)) return true;
      const view = now - durations.ksqlAuthSyncMs;
      const upLongEnough = cluster.servingSince !== undefined && view >= cluster.servingSince;
      return upLongEnough && state.canUseKsql(record.ownerId, cluster, view) ? true : 'forbidden';
    };

  const controlPlane = registerControlPlane(router, {
    state,
    publicUrl: () => publicUrl,
    durations,
    kafkaBootstrap: () => options.kafka?.saslSsl ?? 'pkc-emulated.local:9092',
    takeKafkaUser: () => {
      const used = new Set([...state.apiKeys.keys()]);
      return kafkaUsers.find((user) => !used.has(user.username));
    },
    onSecret: (secret) => recorder.addSecret(secret),
    onClusterDeleted: async (cluster) => {
      for (const hook of emulator.clusterDeletedHooks) {
        await hook(cluster).catch((error: unknown) => {
          emulator.internalErrors.push(`cleaning up after cluster ${cluster.id}: ${String(error)}`);
          process.stderr.write(
            `confluent-cloud emulator: cleaning up after cluster ${cluster.id} failed: ${String(error)}\n`,
          );
        });
      }
    },
    onKsqlClusterCreated: async (cluster) => {
      // Without a backend nothing will ever serve the endpoint; it still looks like Confluent's.
      if (!options.ksql)
        return `https://${cluster.topicPrefix}.${shortId(4)}.${cluster.environmentId}.confluent.cloud.invalid`;
      const reserved = await reserveKsqlEndpoint();
      ksqlPlaceholders.set(cluster.id, reserved);
      return reserved.url;
    },
    onKsqlClusterReady: (cluster) => {
      if (!options.ksql) cluster.servingSince ??= Date.now();
      if (!options.ksql || ksqlServers.has(cluster.id)) return;
      ksqlServers.set(cluster.id, { url: '', stop: async () => undefined });
      const placeholder = ksqlPlaceholders.get(cluster.id);
      ksqlPlaceholders.delete(cluster.id);
      const backend = options.ksql;
      void (async () => {
        await placeholder?.release();
        const server = await backend.start(cluster, ksqlAuthorizer(cluster), { port: placeholder?.port ?? 0 });
        ksqlServers.set(cluster.id, server);
        cluster.endpoint = server.url;
        cluster.servingSince = Date.now();
      })().catch((error: unknown) => {
        ksqlServers.delete(cluster.id);
        emulator.internalErrors.push(`starting the ksqlDB server of ${cluster.id}: ${String(error)}`);
        process.stderr.write(
          `confluent-cloud emulator: ksqlDB server for ${cluster.id} failed to start: ${String(error)}\n`,
        );
      });
    },
    onKsqlClusterGone: async (cluster) => {
      const placeholder = ksqlPlaceholders.get(cluster.id);
      ksqlPlaceholders.delete(cluster.id);
      await placeholder?.release();
      // The harness reaps stopped servers' leftovers on the shared broker; here the server only stops answering.
      const server = ksqlServers.get(cluster.id);
      ksqlServers.delete(cluster.id);
      await server?.stop().catch((error: unknown) => {
        emulator.internalErrors.push(`stopping the ksqlDB server of ${cluster.id}: ${String(error)}`);
      });
    },
  });

  const authenticate = (req: IncomingMessage, auth: Auth, params: Record<string, string>, now: number): Caller => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const split = decoded.indexOf(':');
    const key = split > 0 ? decoded.slice(0, split) : '';
    const secret = split > 0 ? decoded.slice(split + 1) : '';
    if (auth === 'cloud') {
      if (key === cloudCredentials.key && secret === cloudCredentials.secret)
        return { kind: 'cloud', ownerId: state.adminUserId };
      const record = state.apiKeys.get(key);
      if (record && !record.resource && record.secret === secret && now >= record.usableAt)
        return { kind: 'cloud', ownerId: record.ownerId };
      throw new EmulatorHttpError(401, 'user_unauthenticated', 'Unauthorized', {
        gateway: true,
        headers: { 'WWW-Authenticate': 'Basic error="invalid_key", error_description="The API Key is invalid"' },
      });
    }
    const dataPlane = emulator.resourceAuthenticators[auth];
    if (dataPlane) return dataPlane({ key, secret }, params, now);
    const record = state.apiKeys.get(key);
    const clusterId = params['cluster_id'] ?? params['kafka_cluster_id'];
    if (!record || record.secret !== secret || record.resource?.id !== clusterId || now < record.usableAt) {
      // Kafka REST's front answers a key it does not accept (unknown, still propagating) with Jetty's HTML page.
      throw new EmulatorHttpError(401, 'unauthenticated', 'Authentication failed', {
        kafkaErrorCode: 40101,
        body: jettyUnauthorizedPage(new URL(req.url ?? '/', 'http://emulator').pathname),
        headers: { 'Content-Type': 'text/html;charset=utf-8' },
      });
    }
    return { kind: 'resource', key: record };
  };

  const requestListener = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((error: unknown) => {
      emulator.internalErrors.push(`${req.method} ${req.url}: ${String(error)}`);
      process.stderr.write(`confluent-cloud emulator: ${String((error as Error)?.stack ?? error)}\n`);
      if (!res.headersSent)
        res
          .writeHead(500, { 'Content-Type': 'application/json' })
          .end('{"errors":[{"status":"500","code":"internal_server_error","detail":"emulator bug"}]}');
    });
  };
  const server: Server = createServer(requestListener);
  emulator.requestListener = requestListener;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const requestUrl = new URL(req.url ?? '/', 'http://emulator');
    const pathname = requestUrl.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (pathname.startsWith('/__emulator/')) {
      admin(method, pathname, rawBody, res);
      return;
    }

    const requestId = randomUUID();
    const family = familyOf(pathname);
    const now = Date.now();
    // Deletes run in the background on the real service; here they end when the next request looks.
    await controlPlane.finishDueDeletes(now);
    const contentType = req.headers['content-type'];
    let body: unknown;
    let bodyIsJson = true;
    if (rawBody.trim().length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        bodyIsJson = false;
      }
    }
    let reply: Reply | undefined;
    let fault: string | undefined;
    let op: SpecOperation | undefined;
    // Latency spikes (delay rules) do not change the answer, so they are reported apart from `fault`.
    let delayedMs = 0;

    const exchangeBase = {
      at: new Date(now).toISOString(),
      requestId,
      method,
      path: pathname,
      query: requestUrl.search,
      request: { headers: pickHeaders(req.headers), contentType, body, rawBody },
    };

    for (const rule of faults.draw(method, pathname, 'before')) {
      if (rule.kind === 'delay') {
        delayedMs += rule.delayMs ?? 1000;
        await sleep(rule.delayMs ?? 1000);
      }
      if (rule.kind === 'drop') {
        recorder.record({
          ...exchangeBase,
          response: { status: 0, headers: {}, body: undefined, rawBody: '' },
          dropped: true,
          fault: 'drop',
        });
        req.socket.destroy();
        return;
      }
      if (rule.kind === 'throttle' || rule.kind === 'server-error') {
        reply = faultReply(rule, family, pathname, requestId);
        fault = rule.kind;
      }
    }

    if (!reply) {
      try {
        const routed = router.match(method, pathname);
        const specMatch = specs?.match(method, pathname, requestUrl.searchParams);
        op = specMatch?.op;
        if (!routed.route) {
          if (op) {
            throw new EmulatorHttpError(
              404,
              'resource_not_found',
              `${method} ${pathname} (${op.operationId}) is a Confluent API this emulator does not implement`,
              { kafkaErrorCode: 404 },
            );
          }
          if (routed.pathExists || specMatch?.pathExists) {
            throw new EmulatorHttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}`);
          }
          throw new EmulatorHttpError(404, 'resource_not_found', `No such API: ${method} ${pathname}`, {
            kafkaErrorCode: 404,
          });
        }
        const caller = authenticate(req, routed.route.auth, routed.params, now);
        if (!specs) ownRequestRules(method, rawBody, contentType);
        if (!bodyIsJson)
          throw new EmulatorHttpError(400, 'bad_request', 'The request body is not valid JSON', {
            kafkaErrorCode: 400,
          });
        if (op && specs) {
          const violations = specs.validateRequest(op, {
            params: specMatch!.params,
            query: requestUrl.searchParams,
            contentType,
            body,
            rawBody,
          });
          if (violations.length > 0) {
            const bodyProblem = violations.every((v) => v.where.startsWith('body'));
            const status = bodyProblem && family === 'v2' && op.responses['422'] ? 422 : 400;
            const first = violations[0]!;
            throw new EmulatorHttpError(
              status,
              status === 422 ? 'invalid_input' : 'bad_request',
              violations.map((v) => `${v.where} ${v.message}`).join('; '),
              {
                kafkaErrorCode: 400,
                ...(first.where.startsWith('body')
                  ? { pointer: first.where.slice(4) || '/' }
                  : { parameter: first.where.split(' ')[1] }),
              },
            );
          }
        }
        reply = await routed.route.handler({
          method,
          pathname,
          params: routed.params,
          query: requestUrl.searchParams,
          body,
          requestId,
          caller,
          now,
        });
      } catch (error) {
        if (!(error instanceof EmulatorHttpError)) throw error;
        reply = { status: error.status, body: errorBody(family, error, requestId), headers: error.options.headers };
      }
    }

    for (const rule of faults.draw(method, pathname, 'after')) {
      if (rule.kind === 'delay') {
        delayedMs += rule.delayMs ?? 1000;
        await sleep(rule.delayMs ?? 1000);
      }
      if (rule.kind === 'drop') {
        recorder.record({
          ...exchangeBase,
          response: { status: reply.status, headers: {}, body: reply.body, rawBody: '' },
          dropped: true,
          fault: 'drop-after',
        });
        req.socket.destroy();
        return;
      }
      if (rule.kind === 'throttle' || rule.kind === 'server-error') {
        reply = faultReply(rule, family, pathname, requestId);
        fault = `${rule.kind}-after`;
      }
    }

    const headers: Record<string, string> = { 'X-Request-Id': requestId, ...(reply.headers ?? {}) };
    if (family === 'v2' && reply.status < 400)
      Object.assign(headers, { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '99', 'X-RateLimit-Reset': '60' });
    let text = '';
    if (typeof reply.body === 'string') {
      text = reply.body;
      headers['Content-Type'] ??= 'text/html;charset=utf-8';
    } else if (reply.body !== undefined) {
      text = JSON.stringify(reply.body);
      headers['Content-Type'] = 'application/json';
    }
    options.onExchange?.({
      method,
      path: pathname,
      status: reply.status,
      ...(fault ? { fault } : {}),
      ...(delayedMs ? { delayedMs } : {}),
    });
    res.writeHead(reply.status, headers).end(text);

    const checked = op
      ? bodyToCheck(
          { operationId: op.operationId, spec: op.spec, status: reply.status, contentType: headers['Content-Type'] },
          reply.body,
        )
      : 'skip';
    if (op && specs && validateResponses && !fault && checked !== 'skip') {
      const violations = specs.validateResponse(op, reply.status, headers['Content-Type'], checked.body, text);
      for (const v of violations)
        emulator.responseViolations.push(`${method} ${pathname} → ${reply.status}: ${v.where} ${v.message}`);
    }
    recorder.record({
      ...exchangeBase,
      response: {
        status: reply.status,
        headers,
        contentType: headers['Content-Type'],
        body: reply.body,
        rawBody: text,
      },
      ...(fault ? { fault } : {}),
      ...(delayedMs ? { delayedMs } : {}),
    });
  }

  function admin(method: string, pathname: string, rawBody: string, res: ServerResponse): ServerResponse {
    const send = (status: number, value: unknown): ServerResponse =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    if (pathname === '/__emulator/faults') {
      if (method === 'GET') return send(200, faults.describe());
      if (method === 'DELETE') {
        faults.clear();
        return send(200, faults.describe());
      }
      if (method === 'POST') {
        try {
          faults.set(validateFaultSettings(JSON.parse(rawBody || '{}')));
          return send(200, faults.describe());
        } catch (error) {
          return send(400, { message: (error as Error).message });
        }
      }
    }
    if (pathname === '/__emulator/health' && method === 'GET') return send(200, { ok: true });
    return send(404, { message: `no admin endpoint ${method} ${pathname}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  emulator.url = `http://127.0.0.1:${port}`;
  publicUrl ||= emulator.url;
  emulator.url = publicUrl;

  const closers: (() => Promise<void>)[] = [];
  for (const module of modules) {
    const closer = await module(emulator, options);
    if (typeof closer === 'function') closers.push(closer);
  }
  emulator.close = async () => {
    // The service finishes the deletes it accepted, also when nobody looks any more: their clean-up runs now.
    await controlPlane.finishDueDeletes(Number.POSITIVE_INFINITY).catch(() => undefined);
    for (const close of closers) await close().catch(() => undefined);
    for (const ksql of ksqlServers.values()) await ksql.stop().catch(() => undefined);
    for (const placeholder of ksqlPlaceholders.values()) await placeholder.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return emulator;
}

function faultReply(rule: FaultRule, family: ErrorFamily, pathname: string, requestId: string): Reply {
  if (rule.kind === 'throttle') {
    if (family === 'kafka-rest')
      return {
        status: 429,
        body: jettyTooManyRequestsPage(pathname),
        headers: { 'Content-Type': 'text/html;charset=utf-8' },
      };
    const headers: Record<string, string> = {};
    if (rule.rateLimitResetSeconds !== undefined)
      Object.assign(headers, {
        'X-RateLimit-Limit': '100',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String(rule.rateLimitResetSeconds),
      });
    else if ((rule.retryAfterSeconds ?? 1) > 0) headers['Retry-After'] = String(rule.retryAfterSeconds ?? 1);
    const error = new EmulatorHttpError(429, v2Code(429), 'Too Many Requests', { kafkaErrorCode: 429 });
    return { status: 429, body: errorBody(family, error, requestId), headers };
  }
  const status = rule.status ?? 500;
  const error = new EmulatorHttpError(status, v2Code(status), 'Oops, something went wrong!', {
    kafkaErrorCode: family === 'kafka-rest' ? 50003 : status,
  });
  return { status, body: errorBody(family, error, requestId) };
}

/** Without the specs: still reject what every endpoint rejects. */
function ownRequestRules(method: string, rawBody: string, contentType: string | undefined): void {
  if (rawBody.trim().length > 0 && !/application\/json/i.test(contentType ?? '')) {
    throw new EmulatorHttpError(415, 'unsupported_media_type', 'Content-Type must be application/json', {
      kafkaErrorCode: 415,
    });
  }
  if ((method === 'GET' || method === 'DELETE') && rawBody.trim().length > 0) {
    throw new EmulatorHttpError(400, 'bad_request', `${method} takes no body`, { kafkaErrorCode: 400 });
  }
}

function pickHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['content-type', 'accept', 'user-agent', 'x-request-id', 'authorization']) {
    const value = headers[name];
    if (typeof value === 'string')
      kept[name] = name === 'authorization' ? value.replace(/^(Basic)\s+.+$/i, '$1 ****') : value;
  }
  return kept;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
