import type { ConfluentCloud, Environment, KafkaCluster, KsqlCluster } from '../confluent-api/index.js';
import { clusterRbacCrn } from '../confluent-api/index.js';
import { UserError } from '../core/errors.js';
import type { CreateIntent } from './state-recorder.js';

/**
 * Which of the objects that carry this deployment's display name it made. Names of environments, Kafka clusters and
 * ksqlDB clusters are not unique on Confluent Cloud, and those objects have no description to mark, so "ours" is:
 * - after a create whose answer may have been lost: a same-named object that was not there before (the intent the
 *   create wrote to the state file lists those that were);
 * - otherwise: one tied to the deployment's service account (whose name is unique in the organization): a ksqlDB
 *   cluster whose credential identity it is, a Kafka cluster it holds an API key or a role binding on, an
 *   environment holding either.
 * The id in the state file, when there is one, is used before any of this.
 */
export interface OwnershipContext {
  cloud: ConfluentCloud;
  intent: CreateIntent | undefined;
  /** The deployment's service account id, once it exists. */
  accountId(): Promise<string | undefined>;
}

/** The one object of `candidates` this deployment made; undefined when none; an error naming them when several. */
export async function ownedAmong<T extends { id: string }>(
  what: string,
  displayName: string,
  candidates: readonly T[],
  context: OwnershipContext,
  ties: (account: string, candidate: T) => Promise<boolean>,
): Promise<T | undefined> {
  if (candidates.length === 0) return undefined;
  let ours: T[];
  if (context.intent) {
    const before = new Set(context.intent.existingIds);
    ours = candidates.filter((candidate) => !before.has(candidate.id));
  } else {
    const account = await context.accountId();
    if (!account) return undefined;
    ours = [];
    for (const candidate of candidates) if (await ties(account, candidate)) ours.push(candidate);
  }
  if (ours.length > 1) {
    throw new UserError(
      `${ours.length} ${what}s named "${displayName}" look like this deployment's (${ours.map((o) => o.id).join(', ')}), and the state file records none of them`,
      {
        hint: 'Delete the ones that are not in use in the Confluent Cloud console (or pick another prefix), then run the command again.',
      },
    );
  }
  return ours[0];
}

export async function ksqlClusterTies(account: string, cluster: KsqlCluster): Promise<boolean> {
  return cluster.spec.credential_identity?.id === account;
}

export function kafkaClusterTies(cloud: ConfluentCloud, environmentId: string) {
  return async (account: string, cluster: KafkaCluster): Promise<boolean> => {
    if ((await cloud.apiKeys.list({ ownerId: account, resourceId: cluster.id })).length > 0) return true;
    if (cluster.metadata.resource_name) {
      const bindings = await cloud.roleBindings.list({
        crnPattern: clusterRbacCrn(cluster),
        principal: `User:${account}`,
      });
      if (bindings.length > 0) return true;
    }
    return (await cloud.ksqlClusters.list(environmentId)).some(
      (ksql) => ksql.spec.credential_identity?.id === account && ksql.spec.kafka_cluster.id === cluster.id,
    );
  };
}

export function environmentTies(cloud: ConfluentCloud) {
  return async (account: string, environment: Environment): Promise<boolean> => {
    for (const ksql of await cloud.ksqlClusters.list(environment.id))
      if (await ksqlClusterTies(account, ksql)) return true;
    const clusterTies = kafkaClusterTies(cloud, environment.id);
    for (const cluster of await cloud.clusters.list(environment.id))
      if (await clusterTies(account, cluster)) return true;
    return false;
  };
}
