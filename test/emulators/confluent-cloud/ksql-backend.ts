import type { KsqlBackend } from './server.js';

/**
 * ksqlDB clusters backed by the project's ksqlDB dev server (src/ksqldb-dev-server), one in-process instance per
 * cluster on a free 127.0.0.1 port, over the local Kafka's PLAINTEXT listener. Only the ksqlDB API keys the
 * emulator issued for that cluster (once usable) are let in, which is what Confluent Cloud does.
 */
export function localKsqlBackend(
  plaintextBootstrap: string,
  log: (line: string) => void = () => undefined,
): KsqlBackend {
  return {
    async start(cluster, authorize) {
      const { startKsqlDevServer } = await import('../../../src/ksqldb-dev-server/index.js');
      const server = await startKsqlDevServer({
        listen: '127.0.0.1:0',
        bootstrap: plaintextBootstrap,
        serviceId: `${cluster.topicPrefix}_`,
        authorize,
        log,
      });
      return { url: server.url, stop: () => server.close() };
    },
  };
}
