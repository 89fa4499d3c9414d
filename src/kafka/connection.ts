import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { describeSource, type LoadedConfig } from '../core/config.js';
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
  const target: KafkaTarget = {
    target: 'cloud',
    bootstrap: splitBootstrap(bootstrap),
    sasl: { username: key.id, password: key.secret },
  };
  if (config.kafkaCaFile !== undefined) target.ca = await trustedCas(loaded);
  return target;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The public roots plus the certificates of `kafkaCaFile`: giving TLS a `ca` replaces its default roots, and a user
 * behind a TLS-intercepting proxy or with a private broker CA wants to add trust, not lose the public one.
 */
async function trustedCas(loaded: LoadedConfig): Promise<string> {
  const path = loaded.values.kafkaCaFile!;
  const where = `kafkaCaFile ${path} (from ${describeSource(loaded.sources.kafkaCaFile, 'kafkaCaFile')})`;
  const hint = 'Point kafkaCaFile (MARKETPLACE_KAFKA_CA_FILE) at a readable PEM file of CA certificates, or unset it.';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new UserError(`${where} ${reason}`, { hint });
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0)
    throw new UserError(`${where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, { hint });
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new UserError(
        `${where}: certificate ${index + 1} of ${certificates.length} is not a valid X.509 certificate`,
        { hint },
      );
    }
  }
  return [...rootCertificates, ...certificates].join('\n');
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
