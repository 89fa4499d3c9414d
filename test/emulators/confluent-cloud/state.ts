import { randomBytes, randomUUID } from 'node:crypto';

/** How long the asynchronous phases take at time scale 1 (realistic defaults). */
export interface PhaseDurations {
  clusterMs: number;
  ksqlClusterMs: number;
  apiKeyMs: number;
  roleBindingMs: number;
  connectorMs: number;
  /** A governed environment's Schema Registry, from its first Kafka cluster on. */
  schemaRegistryMs: number;
  /** A Flink compute pool from its create (PROVISIONING) to PROVISIONED, and from its delete to gone. */
  computePoolMs: number;
  computePoolDeleteMs: number;
  /** A Flink statement from its create (PENDING) until it starts, and from its delete (DELETING) to gone. */
  statementStartMs: number;
  statementDeleteMs: number;
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
  schemaRegistryMs: 60_000,
  computePoolMs: 60_000,
  computePoolDeleteMs: 30_000,
  statementStartMs: 10_000,
  statementDeleteMs: 10_000,
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
  resource?: { id: string; kind: string; apiVersion: string; environmentId?: string };
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

/**
 * A resource other than a Kafka or ksqlDB cluster that API keys can be made for (a Schema Registry cluster, a Flink
 * region), described by the module that emulates it.
 */
export interface KeyResource {
  id: string;
  kind: string;
  apiVersion: string;
  environmentId?: string;
  /** Its URL on the control plane, and its CRN, as an API key's resource reference shows them. */
  related: string;
  crn: string;
}

/** One version of a subject in a Schema Registry cluster. */
export interface SubjectVersion {
  version: number;
  /** The schema's id in its registry: the same text under two subjects has one id. */
  id: number;
  schemaType: string;
  schema: string;
}

export interface SubjectRecord {
  name: string;
  versions: SubjectVersion[];
  /** Set by a soft delete: hidden from reads until re-registered; a permanent delete then removes it. */
  softDeleted: boolean;
}

/** The Schema Registry cluster of a governed environment, made with the environment's first Kafka cluster. */
export interface SchemaRegistryRecord {
  id: string;
  environmentId: string;
  cloud: string;
  region: string;
  package: string;
  createdAt: number;
  readyAt: number;
  subjects: Map<string, SubjectRecord>;
  /** Schema ids by canonical schema text. */
  schemaIds: Map<string, number>;
}

/** A Flink compute pool (fcpm/v2). */
export interface ComputePoolRecord {
  id: string;
  environmentId: string;
  displayName: string;
  cloud: string;
  region: string;
  maxCfu: number;
  createdAt: number;
  updatedAt: number;
  readyAt: number;
  /** Set by a delete: DEPROVISIONING until then, gone after. */
  goneAt?: number;
}

/** What a statement's SQL is, as far as the emulator runs it. */
export type StatementKind = 'CREATE_TABLE' | 'DROP_TABLE' | 'INSERT_INTO' | 'SELECT' | 'OTHER';

/** A Flink statement (sql/v1) and what runs it on the local Flink. */
export interface StatementRecord {
  name: string;
  organizationId: string;
  environmentId: string;
  uid: string;
  statement: string;
  properties: Record<string, string>;
  computePoolId?: string;
  principal: string;
  stopped: boolean;
  labels: Record<string, string>;
  kind: StatementKind;
  phase: string;
  detail: string;
  resourceVersion: number;
  createdAt: number;
  updatedAt: number;
  /** When it may leave PENDING. */
  startAt: number;
  /** Set by a delete: DELETING until then, gone after. */
  goneAt?: number;
  /** Newest first, at most ten. */
  exceptions: { name: string; message: string; timestamp: string }[];
  /** The result's columns (SELECT) and the rows read so far, in order. */
  columns: { name: string; type: string; nullable: boolean }[];
  rows: { op: number; row: (string | null)[] }[];
  /** Local Flink job running it (INSERT, SELECT). */
  jobId?: string;
  endedAt?: number;
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
  readonly computePools = new Map<string, ComputePoolRecord>();
  /** Flink statements by `<environment id>/<name>`. */
  readonly statements = new Map<string, StatementRecord>();
  /** Schema Registry clusters by environment id. */
  readonly schemaRegistries = new Map<string, SchemaRegistryRecord>();
  /** Modules keep here what goes with a deleted environment (its Schema Registry, its compute pools). */
  readonly environmentGoneHooks: ((environmentId: string) => void)[] = [];
  /** Modules that emulate other key resources answer here for the ids they know. */
  readonly keyResources: ((id: string, environmentId: string | undefined) => KeyResource | undefined)[] = [];

  keyResource(id: string, environmentId: string | undefined): KeyResource | undefined {
    for (const resolve of this.keyResources) {
      const found = resolve(id, environmentId);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * Whether an effective role binding gives `ownerId` one of `roles` on `crn`: a binding on that CRN or on a pattern
   * whose trailing `*` covers it, or an environment or organization admin role above it.
   */
  grants(ownerId: string, roles: readonly string[], crn: string, environmentId: string, now: number): boolean {
    if (ownerId === this.adminUserId) return true;
    return [...this.roleBindings.values()].some((rb) => {
      if (rb.principal !== `User:${ownerId}` || rb.effectiveAt > now) return false;
      const pattern = decodeURIComponent(rb.crnPattern);
      if (rb.roleName === 'OrganizationAdmin') return pattern === this.orgCrn();
      if (rb.roleName === 'EnvironmentAdmin') return pattern === this.environmentCrn(environmentId);
      if (!roles.includes(rb.roleName)) return false;
      return pattern.endsWith('*') ? crn.startsWith(pattern.slice(0, -1)) : pattern === crn;
    });
  }
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
