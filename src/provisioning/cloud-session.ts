import type { ConfluentCloud } from '../confluent-api/index.js';
import type { Config } from '../core/config-schema.js';
import type { LoadedConfig } from '../core/config.js';
import type { Context } from '../core/context.js';
import { cloudCredentials, mongoPassword } from '../core/credentials.js';
import { UserError } from '../core/errors.js';
import { StateStore, type ResourceRecord } from '../core/state-store.js';
import type { CloudEnv, KsqlDeployer } from './cloud-resources.js';
import { cloudResources } from './cloud-resources.js';
import { KnownRecords } from './engine.js';
import { resourceNames, type ResourceNames } from './names.js';
import type { ResourceDef } from './resource.js';
import { remainingCloudResources } from './cloud-verify.js';
import { schemaRegistryResources } from './schema-resources.js';
import { lockStateDir, type ProvisionSession } from './session.js';
import { StateRecorder } from './state-recorder.js';

export interface CloudSession extends ProvisionSession<CloudEnv> {
  config: Config;
  names: ResourceNames;
  cloud: ConfluentCloud;
}

/**
/**
 * How long the first statements on a new ksqlDB key are retried when answered 401/403: Terraform waits 5 minutes
 * after creating a ksqlDB key, blindly; `up` waits until a statement works, and then allows this much for nodes that
 * learn of the key or its role binding later.
 */
const KSQL_AUTH_RETRY_MS = 5 * 60_000;

/**
 * Everything a cloud command needs, assembled in the order that keeps mistakes cheap: configuration and credentials
 * are checked before the first request, and the lock is taken before the state is read.
 */
export async function openCloudSession(
  ctx: Context,
  loaded: LoadedConfig,
  options: { lock: string | undefined; needMongoPassword: boolean },
): Promise<CloudSession> {
  const config = loaded.values;
  const credentials = await cloudCredentials(ctx);
  const sink = config.mongoHost !== undefined;
  if (sink && !config.mongoUser) {
    throw new UserError('mongoHost is set but mongoUser is not: the Atlas sink needs both', {
      hint: 'Set mongoUser (MARKETPLACE_MONGO_USER or marketplace.config.json), or remove mongoHost to skip the sink.',
    });
  }
  const password = sink && options.needMongoPassword ? await mongoPassword(ctx, config.mongoUser) : undefined;

  const clock = ctx.clock;
  const { createConfluentCloud } = await import('../confluent-api/index.js');
  const cloud = createConfluentCloud({
    baseUrl: config.cloudApiUrl,
    apiKey: credentials.key,
    apiSecret: credentials.secret,
    clock,
    secrets: ctx.secrets,
    logger: { debug: (line: string) => ctx.out.debug(line) },
    timeoutMs: config.requestTimeout,
    signal: ctx.signal,
  });
  const store = new StateStore(loaded.dir, { warn: (message) => ctx.out.warn(message) });
  const lock = await lockStateDir(ctx.out, store, options.lock);
  try {
    const recorder = new StateRecorder(store, await store.read());
    await checkCloudAccess(cloud, config.requestTimeout);
    const known = new KnownRecords(recorder);
    const names = resourceNames(config.prefix);
    const { ksqlDeployer } = await import('./ksql-deployer.js');
    const env: CloudEnv = {
      cloud,
      config,
      names,
      signal: ctx.signal,
      clock,
      known: (id) => known.get(id),
      progress: () => undefined,
      waits: { clock, signal: ctx.signal },
      intents: { get: (id) => recorder.intent(id), record: (id, intent) => recorder.intend(id, intent) },
      ksql: (endpoint, creds): KsqlDeployer =>
        ksqlDeployer({
          url: endpoint,
          credentials: creds,
          secrets: ctx.secrets,
          authRetryMs: KSQL_AUTH_RETRY_MS,
          signal: ctx.signal,
          clock,
          requestTimeoutMs: config.requestTimeout,
        }),
      mongoPassword: password,
    };
    const session: CloudSession = {
      target: 'cloud',
      label: `Confluent Cloud (prefix ${names.prefix})`,
      config,
      names,
      defs: await cloudGraph(config, names, { sink, recorded: recorder.all(), down: options.lock === 'down' }),
      env,
      known,
      recorder,
      store,
      cloud,
      sink,
      endpoints: () => {
        const records = recorder.all();
        return {
          environment: records['environment']?.id,
          'kafka bootstrap': records['kafka-cluster']?.attributes?.bootstrap as string | undefined,
          'kafka rest': records['kafka-cluster']?.attributes?.restEndpoint as string | undefined,
          ksqldb: (records['ksqldb-api-key']?.attributes?.endpoint ??
            records['ksqldb-cluster']?.attributes?.endpoint) as string | undefined,
          'schema registry': records['schema-registry']?.attributes?.endpoint as string | undefined,
          'flink endpoint': records['flink-region']?.attributes?.endpoint as string | undefined,
          'compute pool': records['compute-pool']?.id,
        };
      },
      remaining: (opts) => remainingCloudResources(session, opts),
      release: async () => lock?.release(),
    };
    return session;
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/**
 * The demo's graph for the configured engine: ksqlDB (a ksqlDB cluster and its statements), or Flink (a compute pool
 * and statements, whose CREATE TABLEs make the output topics). `down` also takes in what the other engine's nodes
 * the state records, so switching engines never strands a deployment.
 */
async function cloudGraph(
  config: Config,
  names: ResourceNames,
  options: { sink: boolean; recorded: Record<string, ResourceRecord>; down: boolean },
): Promise<ResourceDef<CloudEnv>[]> {
  const ids = Object.keys(options.recorded);
  const flinkRecorded = ids.some((id) => id === 'compute-pool' || id.startsWith('flink-statement:'));
  const ksqlRecorded = ids.some((id) => id === 'ksqldb-cluster' || id === 'ksql-statements');
  const flink = config.engine === 'flink' || (options.down && flinkRecorded);
  const ksql = config.engine === 'ksqldb' || (options.down && ksqlRecorded);
  if (!flink) return [...cloudResources(config, names, { sink: options.sink }), ...schemaRegistryResources(names)];
  const { flinkOutputTables, flinkResources, statementNode } = await import('./flink-resources.js');
  const { loadCloudFlinkTemplates } = await import('../engines/confluent-flink/templates.js');
  const writesJobStatus = loadCloudFlinkTemplates().find((t) => t.kind === 'insert' && t.table === 'job_status');
  const flinkDefs = flinkResources(config, names);
  const defs = [
    ...cloudResources(config, names, {
      sink: options.sink,
      streamProcessing: {
        sinkAfter: writesJobStatus ? [statementNode(writesJobStatus)] : [],
        // Confluent Flink writes job_status as JSON with a schema id (json-registry).
        sinkFormat: 'JSON_SR',
        keepKsqlDb: ksql,
      },
    }),
    ...schemaRegistryResources(names, flinkOutputTables()),
    ...flinkDefs,
  ];
  return defs;
}

/**
 * One cheap authenticated read before the first step: an unreachable API or a rejected key then ends the command with
 * one line (and nothing touched), instead of every step of the graph failing on its own.
 */
async function checkCloudAccess(cloud: ConfluentCloud, requestTimeoutMs: number): Promise<void> {
  await cloud.http.request({
    method: 'GET',
    path: '/org/v2/environments',
    query: { page_size: 1 },
    // As long as one request may take: an API that does not answer ends the command then, with nothing touched.
    deadlineMs: requestTimeoutMs,
  });
}
