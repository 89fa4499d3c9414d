import type { AddressInfo } from 'node:net';
import { Engine, DEV_SERVER_VERSION } from './engine/engine.js';
import { connectKafka } from './engine/kafka.js';
import { createHandler, type Authorizer } from './http/handler.js';
import { createDualProtocolServer } from './http/transport.js';

export interface KsqlDevServerOptions {
  /** host:port to listen on; host must be a loopback address. Port 0 picks a free port. */
  listen: string;
  /** Kafka bootstrap servers (plaintext). */
  bootstrap: string;
  /** Directory for the server's local files (the metastore itself lives in the command topic). */
  dataDir?: string;
  /** Enables basic auth: called with the key and secret of every request (see Authorizer). */
  authorize?: Authorizer;
  /** Keeps instances apart on one Kafka: names the command topic and consumer groups. Default "default_". */
  serviceId?: string;
  /** ksql.server.command.response.timeout.ms: how long POST /ksql waits for a command before answering EXECUTING. */
  commandResponseTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface KsqlDevServer {
  url: string;
  port: number;
  serviceId: string;
  engine: Engine;
  close(): Promise<void>;
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match) throw new Error(`--listen must be host:port, got '${listen}'`);
  const host = match[1]!.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    throw new Error(`The dev server listens on loopback only, got host '${host}'`);
  return { host, port: Number(match[2]) };
}

/**
 * Starts the ksqlDB-compatible development stand-in (not ksqlDB): replays its command topic, restarts its persistent
 * queries, then serves the REST API on one port for HTTP/1.1 and cleartext HTTP/2.
 */
export async function startKsqlDevServer(options: KsqlDevServerOptions): Promise<KsqlDevServer> {
  const { host, port } = parseListen(options.listen);
  const serviceId = options.serviceId ?? 'default_';
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const handles = await connectKafka(options.bootstrap, `ksqldb-dev-${serviceId}`);
  let clusterId = '';
  try {
    clusterId = (await handles.admin.describeCluster()).clusterId;
  } catch {
    clusterId = 'unknown';
  }
  const engine = new Engine({
    handles,
    serviceId,
    bootstrap: options.bootstrap,
    commandResponseTimeoutMs: options.commandResponseTimeoutMs,
    logger: { info: (m) => log(`[ksqldb-dev] ${m}`), warn: (m) => log(`[ksqldb-dev] WARN ${m}`) },
  });
  try {
    await engine.start();
  } catch (error) {
    await Promise.allSettled([handles.producers.disconnect(), handles.admin.disconnect()]);
    throw error;
  }

  let lastKafkaCheck = 0;
  let kafkaHealthy = true;
  const server = createDualProtocolServer(
    createHandler({
      engine,
      authorize: options.authorize,
      kafkaClusterId: () => clusterId,
      hostPort: () => `${host}:${(server.address() as AddressInfo).port}`,
      logger: { warn: (m) => log(`[ksqldb-dev] WARN ${m}`) },
      kafkaHealthy: async () => {
        if (Date.now() - lastKafkaCheck > 5000) {
          lastKafkaCheck = Date.now();
          kafkaHealthy = await handles.admin.describeCluster().then(
            () => true,
            () => false,
          );
        }
        return kafkaHealthy;
      },
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log(
    `[ksqldb-dev] ksqlDB dev server ${DEV_SERVER_VERSION} (development stand-in, not ksqlDB) listening on ${url}, service id ${serviceId}, Kafka ${options.bootstrap}`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    serviceId,
    engine,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await engine.stop();
        await Promise.allSettled([handles.producers.disconnect(), handles.admin.disconnect()]);
      })();
      return closing;
    },
  };
}
