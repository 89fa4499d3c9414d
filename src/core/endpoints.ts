import type { Config } from './config-schema.js';

export interface Endpoints {
  bootstrapServers?: string;
  ksqldbUrl?: string;
  flinkGatewayUrl?: string;
  flinkRestUrl?: string;
  connectUrl?: string;
  mongoUri?: string;
}

/**
 * Explicit configuration wins; on the local target anything left unset points at the local stack's ports on
 * 127.0.0.1. On the cloud target unset endpoints stay unset: they come from the provisioned resources in state.
 */
export function configuredEndpoints(config: Config): Endpoints {
  const local = config.target === 'local';
  return {
    bootstrapServers: config.bootstrapServers ?? (local ? `127.0.0.1:${config.localKafkaPort}` : undefined),
    ksqldbUrl: config.ksqldbUrl ?? (local ? `http://127.0.0.1:${config.localKsqldbPort}` : undefined),
    flinkGatewayUrl: config.flinkGatewayUrl ?? (local ? `http://127.0.0.1:${config.localFlinkGatewayPort}` : undefined),
    flinkRestUrl: config.flinkRestUrl ?? (local ? `http://127.0.0.1:${config.localFlinkPort}` : undefined),
    connectUrl: config.connectUrl ?? (local ? `http://127.0.0.1:${config.localConnectPort}` : undefined),
    mongoUri: config.mongoUri ?? (local ? `mongodb://127.0.0.1:${config.localFerretdbPort}/` : undefined),
  };
}
