import type { LoadedConfig } from '../core/config.js';
import { configuredEndpoints } from '../core/endpoints.js';
import { UserError } from '../core/errors.js';
import type { SecretRegistry } from '../core/redact.js';
import { StateStore, type ResourceRecord } from '../core/state-store.js';
import type { KafkaTarget } from './client.js';

/** The state record `marketplace up` writes for the cluster API key the data plane uses. */
export const KAFKA_API_KEY_KIND = 'kafka-api-key';

/**
 * Where and how to connect for the configured target. An explicit bootstrap (flag, env, config file) always wins.
 * Local: the local stack's PLAINTEXT listener. Cloud: the cluster bootstrap and cluster API key from the state file.
 */
export async function resolveKafkaTarget(loaded: LoadedConfig, secrets: SecretRegistry): Promise<KafkaTarget> {
  const config = loaded.values;
  if (config.target === 'local') {
    // configuredEndpoints falls back to 127.0.0.1:<localKafkaPort>, the local stack's PLAINTEXT listener.
    return { target: 'local', bootstrap: splitBootstrap(configuredEndpoints(config).bootstrapServers!) };
  }
  const state = await new StateStore(loaded.dir).read();
  const key = findApiKey(Object.values(state.resources));
  if (!key) {
    throw new UserError(`no Kafka cluster API key in ${new StateStore(loaded.dir).path}`, {
      hint: 'Run `marketplace up` first to provision the cluster and its API key, or use --target local.',
    });
  }
  secrets.add(key.secret);
  const bootstrap = config.bootstrapServers ?? key.bootstrap;
  if (!bootstrap) {
    throw new UserError('the state file has no Kafka bootstrap address for the cluster', {
      hint: 'Run `marketplace up` again to record it, or pass --bootstrap-servers.',
    });
  }
  return { target: 'cloud', bootstrap: splitBootstrap(bootstrap), sasl: { username: key.id, password: key.secret } };
}

function findApiKey(resources: ResourceRecord[]): { id: string; secret: string; bootstrap?: string } | undefined {
  const record = resources.find((r) => r.kind === KAFKA_API_KEY_KIND && r.target === 'cloud' && r.secrets?.secret);
  if (!record) return undefined;
  const bootstrap = record.attributes?.bootstrap;
  return {
    id: record.id,
    secret: record.secrets!.secret!,
    bootstrap: typeof bootstrap === 'string' ? bootstrap.replace(/^SASL_SSL:\/\//, '') : undefined,
  };
}

export function splitBootstrap(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}
