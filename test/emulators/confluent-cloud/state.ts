import { randomBytes, randomUUID } from 'node:crypto';

/** How long the asynchronous phases take at time scale 1 (realistic defaults). */
export interface PhaseDurations {
  clusterMs: number;
  ksqlClusterMs: number;
  apiKeyMs: number;
  roleBindingMs: number;
  connectorMs: number;
  /**
   * A ksqlDB cluster enforces role bindings from its own view of them, which it refreshes this long after it started
   * serving or the binding took effect, whichever is later: meanwhile statements answer 403 though /info answers 200.
   */
  ksqlAuthSyncMs: number;
  /** Deletes are asynchronous: the object stays visible (phase DEPROVISIONING where it has one) this long. */
  clusterDeleteMs: number;
  ksqlClusterDeleteMs: number;
  environmentDeleteMs: number;
  /** A deleted topic's name cannot be created again ("marked for deletion") for this long. */
  topicDeleteMs: number;
}

export const REALISTIC_DURATIONS: PhaseDurations = {
  clusterMs: 120_000,
  ksqlClusterMs: 600_000,
  apiKeyMs: 90_000,
  roleBindingMs: 90_000,
  connectorMs: 60_000,
  ksqlAuthSyncMs: 60_000,
  clusterDeleteMs: 120_000,
  ksqlClusterDeleteMs: 120_000,
  environmentDeleteMs: 60_000,
  topicDeleteMs: 10_000,
};

/** A delete the service accepted but has not finished: until `goneAt` the object is still listed and readable. */
export interface Deletion {
  requestedAt: number;
  goneAt: number;
}

export interface EnvironmentRecord {
  id: string;
  displayName: string;
  package: string;
  createdAt: number;
  updatedAt: number;
  deletion?: Deletion;
}

export interface ClusterRecord {
  id: string;
  environmentId: string;
  displayName: string;
  availability: string;
  cloud: string;
  region: string;
  config: Record<string, unknown>;
  createdAt: number;
  readyAt: number;
  deletion?: Deletion;
}

export interface ServiceAccountRecord {
  id: string;
  displayName: string;
  description: string;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  secret: string;
  displayName: string;
  description: string;
  ownerId: string;
  /** undefined for a Cloud key. */
  resource?: { id: string; kind: 'Cluster'; apiVersion: string; environmentId?: string };
  createdAt: number;
  usableAt: number;
}

export interface RoleBindingRecord {
  id: string;
  principal: string;
  roleName: string;
  crnPattern: string;
  createdAt: number;
  effectiveAt: number;
}

export interface KsqlClusterRecord {
  id: string;
  environmentId: string;
  kafkaClusterId: string;
  credentialIdentityId: string;
  displayName: string;
  csu: number;
  detailedProcessingLog: boolean;
  topicPrefix: string;
  createdAt: number;
  readyAt: number;
  /** Published from the create on (as Confluent does); it serves ksqlDB only once the cluster is PROVISIONED. */
  endpoint: string;
  /** Since when ksqlDB answers at the endpoint; the cluster reads PROVISIONED only from then. */
  servingSince?: number;
  deletion?: Deletion;
}

export interface AclRecord {
  clusterId: string;
  resource_type: string;
  resource_name: string;
  pattern_type: string;
  principal: string;
  host: string;
  operation: string;
  permission: string;
}

export interface ConnectorRecord {
  name: string;
  environmentId: string;
  clusterId: string;
  config: Record<string, string>;
  /** Name on the local Kafka Connect worker. */
  workerName: string;
  createdAt: number;
  runningAt: number;
  /** Set when the emulator itself decided the connector fails (e.g. an unknown Kafka API key). */
  failure?: string;
}

/** Everything the emulated organization holds. */
export class EmulatorState {
  readonly organizationId = randomUUID();
  readonly organizationName = 'emulated-organization';
  /** The user that owns the Cloud API key: an OrganizationAdmin. */
  readonly adminUserId = `u-${shortId(5)}`;
  readonly environments = new Map<string, EnvironmentRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  readonly serviceAccounts = new Map<string, ServiceAccountRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly roleBindings = new Map<string, RoleBindingRecord>();
  readonly ksqlClusters = new Map<string, KsqlClusterRecord>();
  readonly acls: AclRecord[] = [];
  readonly connectors = new Map<string, ConnectorRecord>();
  /** Ids of objects that were deleted and are gone: Confluent answers them differently from ids it never issued. */
  readonly gone = new Map<string, 'environment' | 'cluster' | 'ksql-cluster' | 'api-key' | 'role-binding'>();

  /** An environment that exists (also while its delete runs). */
  liveEnvironment(id: string): EnvironmentRecord | undefined {
    return this.environments.get(id);
  }

  orgCrn(): string {
    return `crn://confluent.cloud/organization=${this.organizationId}`;
  }

  environmentCrn(environmentId: string): string {
    return `${this.orgCrn()}/environment=${environmentId}`;
  }

  clusterRbacCrn(cluster: ClusterRecord): string {
    return `${this.environmentCrn(cluster.environmentId)}/cloud-cluster=${cluster.id}`;
  }

  /** Whether an effective role binding lets `ownerId` administer the cluster. */
  canAdministerCluster(ownerId: string, cluster: ClusterRecord, now: number): boolean {
    if (ownerId === this.adminUserId) return true;
    const crn = this.clusterRbacCrn(cluster);
    return [...this.roleBindings.values()].some(
      (rb) =>
        rb.principal === `User:${ownerId}` &&
        rb.effectiveAt <= now &&
        ((rb.roleName === 'CloudClusterAdmin' && decodeURIComponent(rb.crnPattern) === crn) ||
          (rb.roleName === 'EnvironmentAdmin' &&
            decodeURIComponent(rb.crnPattern) === this.environmentCrn(cluster.environmentId)) ||
          (rb.roleName === 'OrganizationAdmin' && decodeURIComponent(rb.crnPattern) === this.orgCrn())),
    );
  }

  ksqlCrn(k: KsqlClusterRecord): string {
    return `${this.environmentCrn(k.environmentId)}/cloud-cluster=${k.kafkaClusterId}/ksql=${k.displayName}`;
  }

  /**
   * Whether an effective role binding lets `ownerId` run statements on a ksqlDB cluster: KsqlAdmin on its CRN (what
   * the demo grants), or an environment or organization admin role.
   */
  canUseKsql(ownerId: string, k: KsqlClusterRecord, now: number): boolean {
    if (ownerId === this.adminUserId) return true;
    const grants: [string, string][] = [
      ['KsqlAdmin', this.ksqlCrn(k)],
      ['EnvironmentAdmin', this.environmentCrn(k.environmentId)],
      ['OrganizationAdmin', this.orgCrn()],
    ];
    return [...this.roleBindings.values()].some(
      (rb) =>
        rb.principal === `User:${ownerId}` &&
        rb.effectiveAt <= now &&
        grants.some(([role, crn]) => rb.roleName === role && decodeURIComponent(rb.crnPattern) === crn),
    );
  }

  deleteApiKey(id: string): void {
    if (this.apiKeys.delete(id)) this.gone.set(id, 'api-key');
  }

  /** Cascade of a service account delete: its keys go with it. */
  deleteServiceAccount(id: string): void {
    this.serviceAccounts.delete(id);
    for (const key of [...this.apiKeys.values()]) if (key.ownerId === id) this.deleteApiKey(key.id);
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function shortId(length: number): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function apiKeyId(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(16)].map((b) => letters[b % letters.length]).join('');
}

export function apiKeySecret(): string {
  return randomBytes(48)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 64);
}
