import type { ResourceRecord } from '../core/state-store.js';
import type { ConfluentCloud } from '../confluent-api/index.js';
import { hasPrefix, type ResourceNames } from './names.js';

/**
 * After a teardown, looks for anything that still carries the prefix: environments, service accounts and API keys
 * org-wide, and inside a kept environment its clusters, ksqlDB clusters and Flink compute pools (its statements were
 * checked before the Flink key went: see flink-resources.ts). Role bindings have no name, so they are
 * looked up by what the teardown deleted: any binding of a deleted service account on a deleted cluster's CRN.
 * Anything found here would keep billing or keep granting access.
 */
export async function remainingCloudResources(
  { cloud, names }: { cloud: ConfluentCloud; names: ResourceNames },
  options: { keepEnvironment: boolean; deleted: ResourceRecord[] },
): Promise<string[]> {
  const remaining: string[] = [];
  const environments = (await cloud.environments.list()).filter((e) => hasPrefix(e.display_name, names.prefix));
  for (const environment of environments) {
    if (!options.keepEnvironment) remaining.push(`environment ${environment.display_name} (${environment.id})`);
    for (const cluster of await cloud.clusters.list(environment.id)) {
      if (hasPrefix(cluster.spec.display_name, names.prefix))
        remaining.push(`Kafka cluster ${cluster.spec.display_name} (${cluster.id})`);
    }
    for (const ksql of await cloud.ksqlClusters.list(environment.id)) {
      if (hasPrefix(ksql.spec.display_name, names.prefix))
        remaining.push(`ksqlDB cluster ${ksql.spec.display_name} (${ksql.id})`);
    }
    for (const pool of await cloud.computePools.list(environment.id)) {
      if (hasPrefix(pool.spec.display_name, names.prefix))
        remaining.push(`Flink compute pool ${pool.spec.display_name} (${pool.id}, ${pool.status.phase})`);
    }
  }
  for (const account of await cloud.serviceAccounts.list()) {
    if (hasPrefix(account.display_name, names.prefix))
      remaining.push(`service account ${account.display_name} (${account.id})`);
  }

  const deletedAccounts = options.deleted.filter((r) => r.kind === 'service-account').map((r) => r.id);
  for (const key of await cloud.apiKeys.list()) {
    if (hasPrefix(key.spec.display_name, names.prefix) || deletedAccounts.includes(key.spec.owner?.id ?? '')) {
      remaining.push(`API key ${key.spec.display_name ?? ''} (${key.id})`);
    }
  }

  const principals = new Set(deletedAccounts.map((id) => `User:${id}`));
  for (const crnPattern of crnPatternsOf(options.deleted)) {
    for (const binding of await cloud.roleBindings.list({ crnPattern })) {
      if (principals.has(binding.principal))
        remaining.push(`role binding ${binding.role_name} of ${binding.principal} (${binding.id})`);
    }
  }
  return remaining;
}

/** The CRNs role bindings of the demo were made on: the Kafka cluster's and the ksqlDB cluster's. */
function crnPatternsOf(deleted: ResourceRecord[]): string[] {
  const crns = new Set<string>();
  for (const record of deleted) {
    const attributes = record.attributes ?? {};
    for (const value of [attributes['rbacCrn'], attributes['crn']]) {
      if (typeof value === 'string' && value.length > 0) crns.add(decodeURIComponent(value));
    }
  }
  return [...crns];
}
