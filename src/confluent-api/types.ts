/** Shapes of the Confluent Cloud objects the demo uses, written from the official OpenAPI specs (fields we read). */

export interface ObjectMeta {
  self: string;
  resource_name?: string;
  created_at?: string;
  updated_at?: string;
  deleted_at?: string;
}

export interface ListMeta {
  first?: string | null;
  last?: string | null;
  prev?: string | null;
  next?: string | null;
  total_size?: number;
}

export interface ListResponse<T> {
  api_version: string;
  kind: string;
  metadata: ListMeta;
  data: T[];
}

export interface ObjectReference {
  id: string;
  environment?: string;
  related?: string;
  resource_name?: string;
  api_version?: string;
  kind?: string;
}

export type StreamGovernancePackage = 'ESSENTIALS' | 'ADVANCED';

export interface Environment {
  api_version: 'org/v2';
  kind: 'Environment';
  id: string;
  metadata: ObjectMeta;
  display_name: string;
  stream_governance_config?: { package: StreamGovernancePackage | string };
}

export interface Organization {
  api_version: 'org/v2';
  kind: 'Organization';
  id: string;
  metadata: ObjectMeta;
  display_name: string;
  jit_enabled?: boolean;
}

export type ClusterConfig =
  | { kind: 'Basic'; max_ecku?: number }
  | { kind: 'Standard'; max_ecku?: number }
  | { kind: 'Enterprise'; max_ecku?: number }
  | { kind: 'Dedicated'; cku: number }
  | { kind: 'Freight'; max_ecku?: number };

export type Phase = 'PROVISIONING' | 'PROVISIONED' | 'FAILED' | (string & {});

export interface KafkaCluster {
  api_version: 'cmk/v2';
  kind: 'Cluster';
  id: string;
  metadata: ObjectMeta;
  spec: {
    display_name: string;
    availability: string;
    cloud: string;
    region: string;
    config: ClusterConfig;
    kafka_bootstrap_endpoint?: string;
    http_endpoint?: string;
    endpoints?: Record<string, { kafka_bootstrap_endpoint: string; http_endpoint: string; connection_type: string }>;
    environment: ObjectReference;
  };
  status: { phase: Phase; cku?: number };
}

export interface ServiceAccount {
  api_version: 'iam/v2';
  kind: 'ServiceAccount';
  id: string;
  metadata: ObjectMeta;
  display_name: string;
  description?: string;
}

export interface ApiKey {
  api_version: 'iam/v2';
  kind: 'ApiKey';
  /** The key itself (the user name of basic auth). */
  id: string;
  metadata: ObjectMeta;
  spec: {
    /** Only in the create response. */
    secret?: string;
    display_name?: string;
    description?: string;
    owner: ObjectReference;
    resource?: ObjectReference | null;
  };
}

export interface RoleBinding {
  api_version: 'iam/v2';
  kind: 'RoleBinding';
  id: string;
  metadata: ObjectMeta;
  principal: string;
  role_name: string;
  crn_pattern: string;
}

export interface KsqlCluster {
  api_version: 'ksqldbcm/v2';
  kind: 'Cluster';
  id: string;
  metadata: ObjectMeta;
  spec: {
    display_name: string;
    use_detailed_processing_log?: boolean;
    csu: number;
    kafka_cluster: ObjectReference;
    credential_identity: ObjectReference;
    environment: ObjectReference;
  };
  status: { http_endpoint?: string; phase: Phase; is_paused: boolean; storage: number; topic_prefix?: string };
}

export interface KafkaTopic {
  kind: string;
  metadata: { self: string; resource_name?: string | null };
  cluster_id: string;
  topic_name: string;
  is_internal: boolean;
  replication_factor: number;
  partitions_count: number;
}

export type AclResourceType = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID' | 'DELEGATION_TOKEN';
export type AclPatternType = 'LITERAL' | 'PREFIXED';
export type AclOperation =
  | 'ALL'
  | 'READ'
  | 'WRITE'
  | 'CREATE'
  | 'DELETE'
  | 'ALTER'
  | 'DESCRIBE'
  | 'CLUSTER_ACTION'
  | 'DESCRIBE_CONFIGS'
  | 'ALTER_CONFIGS'
  | 'IDEMPOTENT_WRITE';

export interface AclBinding {
  resource_type: AclResourceType;
  resource_name: string;
  pattern_type: AclPatternType;
  principal: string;
  host: string;
  operation: AclOperation;
  permission: 'ALLOW' | 'DENY';
}

export type ConnectorState = 'NONE' | 'PROVISIONING' | 'RUNNING' | 'DEGRADED' | 'FAILED' | 'PAUSED' | 'DELETED';

export interface Connector {
  name: string;
  config: Record<string, string>;
  tasks?: { connector: string; task: number }[];
  type?: 'sink' | 'source';
}

export interface ConnectorStatus {
  name: string;
  type: 'sink' | 'source';
  connector: { state: ConnectorState | (string & {}); worker_id: string; trace?: string };
  tasks?: { id: number; state: string; worker_id: string; msg?: string }[];
}

export interface ConnectorValidation {
  name: string;
  groups?: string[];
  error_count: number;
  configs: {
    definition?: { name: string; required?: boolean };
    value: { name: string; value?: string; errors: string[] };
  }[];
}

export interface SchemaRegistryCluster {
  api_version: 'srcm/v3';
  kind: 'Cluster';
  id: string;
  metadata: ObjectMeta;
  spec: {
    display_name?: string;
    package?: string;
    http_endpoint?: string;
    private_http_endpoint?: string;
    cloud?: string;
    region?: string;
    environment?: ObjectReference;
  };
  status: { phase: Phase };
}

/** One version of a subject, as the Schema Registry returns it. */
export interface SubjectSchema {
  subject: string;
  version: number;
  id: number;
  /** AVRO when absent. */
  schemaType?: string;
  /** The schema as text. */
  schema: string;
}

export interface FlinkRegion {
  api_version: 'fcpm/v2';
  kind: 'Region';
  /** `<cloud>.<region>`, e.g. aws.us-east-2: what a Flink API key is scoped to. */
  id: string;
  metadata: ObjectMeta;
  display_name: string;
  cloud: string;
  region_name: string;
  /** The regional Flink endpoint statements are sent to. */
  http_endpoint: string;
  private_http_endpoint?: string;
}

export type ComputePoolPhase = 'PROVISIONING' | 'PROVISIONED' | 'FAILED' | 'DEPROVISIONING' | (string & {});

export interface ComputePool {
  api_version: 'fcpm/v2';
  kind: 'ComputePool';
  /** lfcp-… */
  id: string;
  metadata: ObjectMeta;
  spec: {
    display_name: string;
    cloud: string;
    region: string;
    max_cfu: number;
    environment: ObjectReference;
    default_pool?: boolean;
  };
  status: { phase: ComputePoolPhase; current_cfu: number };
}

export type StatementPhase =
  | 'PENDING'
  | 'RUNNING'
  | 'COMPLETED'
  | 'DELETING'
  | 'FAILING'
  | 'FAILED'
  | 'STOPPING'
  | 'STOPPED'
  | 'DEGRADED'
  | (string & {});

export interface StatementColumn {
  name: string;
  type: { type: string; nullable: boolean; [detail: string]: unknown };
}

export interface FlinkStatement {
  api_version: 'sql/v1';
  kind: 'Statement';
  metadata: {
    self: string;
    created_at?: string;
    updated_at?: string;
    uid?: string;
    /** The concurrency token of a PUT: a statement changed since it was read answers 409. */
    resource_version?: string;
    resource_name?: string;
    labels?: Record<string, string>;
  };
  name: string;
  organization_id: string;
  environment_id: string;
  spec: {
    statement: string;
    properties?: Record<string, string>;
    compute_pool_id?: string;
    principal?: string;
    stopped?: boolean;
  };
  status: {
    phase: StatementPhase;
    detail?: string;
    traits?: {
      sql_kind?: string;
      is_bounded?: boolean;
      is_append_only?: boolean;
      upsert_columns?: number[];
      schema?: { columns?: StatementColumn[] };
    };
    latest_offsets?: Record<string, string>;
    identity?: string;
  };
}

export interface StatementException {
  name: string;
  message: string;
  timestamp: string;
}

/** One row of a statement's result: op 0 insert, 1 update-before, 2 update-after, 3 delete; values as text. */
export interface StatementResultRow {
  op?: 0 | 1 | 2 | 3;
  row: unknown[];
}
