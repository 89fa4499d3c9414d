import type { SecretRegistry } from '../core/redact.js';
import type { Clock } from '../core/waiter.js';
import { ApiKeys } from './api-keys.js';
import { Clusters } from './clusters.js';
import { ComputePools, FlinkRegions } from './compute-pools.js';
import { FlinkStatements, type FlinkTarget } from './flink-statements.js';
import { Connectors } from './connectors.js';
import { Environments, Organizations } from './environments.js';
import { HttpCore, type ApiLogger } from './http.js';
import { KafkaRest, type KafkaRestTarget } from './kafka-rest.js';
import { KsqlClusters } from './ksql-clusters.js';
import type { RetryPolicy } from './retry-policy.js';
import { RoleBindings } from './role-bindings.js';
import { SchemaRegistry, type SchemaRegistryTarget } from './schema-registry.js';
import { SchemaRegistryClusters } from './schema-registry-clusters.js';
import { ServiceAccounts } from './service-accounts.js';
import * as waiters from './waiters.js';

export interface ConfluentCloudOptions {
  /** config key cloudApiUrl; https://api.confluent.cloud in production. */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  clock?: Clock;
  logger?: ApiLogger;
  secrets?: SecretRegistry;
  timeoutMs?: number;
  deadlineMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

export interface ConfluentCloud {
  http: HttpCore;
  organizations: Organizations;
  environments: Environments;
  clusters: Clusters;
  serviceAccounts: ServiceAccounts;
  apiKeys: ApiKeys;
  roleBindings: RoleBindings;
  ksqlClusters: KsqlClusters;
  schemaRegistryClusters: SchemaRegistryClusters;
  schemaRegistry(target: SchemaRegistryTarget): SchemaRegistry;
  flinkRegions: FlinkRegions;
  computePools: ComputePools;
  flinkStatements(target: FlinkTarget): FlinkStatements;
  connectors(environmentId: string, kafkaClusterId: string): Connectors;
  kafka(target: KafkaRestTarget): KafkaRest;
  clock?: Clock;
  waiters: typeof waiters;
}

/** The Confluent Cloud client `marketplace up` and `down` use. */
export function createConfluentCloud(options: ConfluentCloudOptions): ConfluentCloud {
  const http = new HttpCore({
    baseUrl: options.baseUrl,
    cloudCredentials: { key: options.apiKey, secret: options.apiSecret },
    clock: options.clock,
    logger: options.logger,
    secrets: options.secrets,
    timeoutMs: options.timeoutMs,
    deadlineMs: options.deadlineMs,
    retry: options.retry,
    signal: options.signal,
  });
  return {
    http,
    organizations: new Organizations(http),
    environments: new Environments(http),
    clusters: new Clusters(http),
    serviceAccounts: new ServiceAccounts(http),
    apiKeys: new ApiKeys(http, options.secrets),
    roleBindings: new RoleBindings(http),
    ksqlClusters: new KsqlClusters(http),
    schemaRegistryClusters: new SchemaRegistryClusters(http),
    schemaRegistry: (target) => new SchemaRegistry(http, target),
    flinkRegions: new FlinkRegions(http),
    computePools: new ComputePools(http),
    flinkStatements: (target) => new FlinkStatements(http, target),
    connectors: (environmentId, kafkaClusterId) => new Connectors(http, environmentId, kafkaClusterId),
    kafka: (target) => new KafkaRest(http, target),
    clock: options.clock,
    waiters,
  };
}

export type { Credentials, ApiLogger } from './http.js';
export { HttpCore } from './http.js';
export * from './errors.js';
export * from './types.js';
export { bootstrapServers, restEndpoint, clusterRbacCrn } from './clusters.js';
export { schemaRegistryEndpoint } from './schema-registry-clusters.js';
export type { FlinkTarget, StatementInput, ResultPage } from './flink-statements.js';
export {
  ApiKeys,
  Clusters,
  ComputePools,
  Connectors,
  FlinkRegions,
  FlinkStatements,
  Environments,
  Organizations,
  KafkaRest,
  KsqlClusters,
  RoleBindings,
  SchemaRegistry,
  SchemaRegistryClusters,
  ServiceAccounts,
};
