import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { SecretRegistry } from '../core/redact.js';
import type { Clock } from '../core/waiter.js';
import { KsqlClient } from '../ksql-client/client.js';
import { createdSource } from '../ksql-client/statements.js';
import { applyTemplates, splitFile, TEMPLATES_DIR } from '../ksql-client/templates.js';
import type { KsqlDeployer } from './cloud-resources.js';

export interface KsqlDeployerOptions {
  url: string;
  /** ksqlDB API key (cloud); none for the local dev server. */
  credentials?: { key: string; secret: string };
  secrets?: SecretRegistry;
  /** Applying the templates retries statements answered 401/403 for this long (see KsqlClientOptions). */
  authRetryMs?: number;
  /** The command's Ctrl-C, clock and requestTimeout. */
  signal: AbortSignal;
  clock: Clock;
  requestTimeoutMs: number;
}

/** The streams and tables the templates create, in template order. */
async function templateSources(): Promise<{ kind: 'STREAM' | 'TABLE'; name: string }[]> {
  const files = (await fs.readdir(TEMPLATES_DIR)).filter((name) => name.endsWith('.sql')).sort();
  const sources: { kind: 'STREAM' | 'TABLE'; name: string }[] = [];
  for (const file of files) {
    const text = await fs.readFile(join(TEMPLATES_DIR, file), 'utf8');
    for (const statement of splitFile(file, text)) {
      const source = createdSource(statement.text);
      if (source) sources.push(source);
    }
  }
  return sources;
}

/** The statements step of the resource graph, on top of the ksqlDB client. */
export function ksqlDeployer(options: KsqlDeployerOptions): KsqlDeployer {
  const withClient = async <T>(use: (client: KsqlClient) => Promise<T>, authRetryMs?: number): Promise<T> => {
    const client = new KsqlClient({
      authRetryMs,
      url: options.url,
      auth: options.credentials
        ? {
            username: options.credentials.key,
            password: options.credentials.secret,
            source: 'the ksqlDB API key in .marketplace/state.json',
          }
        : undefined,
      secrets: options.secrets,
      signal: options.signal,
      clock: options.clock,
      requestTimeoutMs: options.requestTimeoutMs,
      unreachableHint: options.credentials
        ? 'Check the ksqlDB cluster in the Confluent Cloud console, or run `marketplace status`.'
        : 'Start the local stack with `marketplace local start`, or check ksqldbUrl.',
    });
    try {
      return await use(client);
    } finally {
      client.close();
    }
  };
  const existingNames = async (client: KsqlClient) =>
    new Set([...(await client.listStreams()), ...(await client.listTables())].map((source) => source.name));
  const demoQueries = async (client: KsqlClient, names: Set<string>) =>
    (await client.listQueries()).filter((query) => query.sinks.some((sink) => names.has(sink)));

  return {
    // Right after `up` made the ksqlDB key and its role binding, some nodes may not know them yet.
    apply: () =>
      withClient(async (client) => {
        const result = await applyTemplates(client);
        return { created: result.created, existing: result.existing };
      }, options.authRetryMs),
    complete: () =>
      withClient(async (client) => {
        const existing = await existingNames(client);
        return (await templateSources()).every((source) => existing.has(source.name));
      }),
    remove: () =>
      withClient(async (client) => {
        const sources = await templateSources();
        const names = new Set(sources.map((source) => source.name));
        for (const query of await demoQueries(client, names)) await client.executeStatement(`TERMINATE ${query.id};`);
        const existing = await existingNames(client);
        for (const source of [...sources].reverse()) {
          if (existing.has(source.name)) await client.executeStatement(`DROP ${source.kind} IF EXISTS ${source.name};`);
        }
      }),
    leftovers: () =>
      withClient(async (client) => {
        const sources = await templateSources();
        const names = new Set(sources.map((source) => source.name));
        const existing = await existingNames(client);
        return [
          ...sources
            .filter((source) => existing.has(source.name))
            .map((source) => `${source.kind.toLowerCase()} ${source.name}`),
          ...(await demoQueries(client, names)).map((query) => `query ${query.id}`),
        ];
      }),
  };
}
