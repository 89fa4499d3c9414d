import type { CloudSession } from './cloud-session.js';
import { hasPrefix } from './names.js';

/**
 * After a teardown, looks for anything that still carries the prefix: environments and service accounts org-wide,
 * and inside a kept environment its clusters and ksqlDB clusters. Anything found here would keep billing.
 */
export async function remainingCloudResources(
  session: CloudSession,
  options: { keepEnvironment: boolean },
): Promise<string[]> {
  const { cloud, names } = session;
  const remaining: string[] = [];
  const environments = (await cloud.environments.list()).filter((e) => hasPrefix(e.display_name, names.prefix));
  for (const environment of environments) {
    if (!options.keepEnvironment) remaining.push(`environment ${environment.display_name} (${environment.id})`);
    for (const cluster of await cloud.clusters.list(environment.id)) {
      if (hasPrefix(cluster.spec.display_name, names.prefix)) remaining.push(`Kafka cluster ${cluster.spec.display_name} (${cluster.id})`);
    }
    for (const ksql of await cloud.ksqlClusters.list(environment.id)) {
      if (hasPrefix(ksql.spec.display_name, names.prefix)) remaining.push(`ksqlDB cluster ${ksql.spec.display_name} (${ksql.id})`);
    }
  }
  for (const account of await cloud.serviceAccounts.list()) {
    if (hasPrefix(account.display_name, names.prefix)) remaining.push(`service account ${account.display_name} (${account.id})`);
  }
  return remaining;
}
