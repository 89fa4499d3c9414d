/**
 * What POST /ksql answers, one entity per statement, told apart by `@type` (ksqlDB 0.29 KsqlEntity subtypes).
 * Only the fields this tool reads are typed; everything else the server sends is kept as-is.
 */

export interface Warning {
  message: string;
}

interface EntityBase {
  statementText: string;
  warnings?: Warning[];
}

export type CommandState = 'QUEUED' | 'PARSING' | 'EXECUTING' | 'RUNNING' | 'SUCCESS' | 'ERROR' | 'TERMINATED';

export const FINAL_COMMAND_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'ERROR', 'TERMINATED']);

export interface CommandStatus {
  status: CommandState;
  message: string;
  queryId?: string | null;
}

export interface CurrentStatusEntity extends EntityBase {
  '@type': 'currentStatus';
  commandId: string;
  commandStatus: CommandStatus;
  commandSequenceNumber: number;
}

export interface SourceInfo {
  type: 'STREAM' | 'TABLE';
  name: string;
  topic: string;
  keyFormat: string;
  valueFormat: string;
  isWindowed: boolean;
}

export interface StreamsListEntity extends EntityBase {
  '@type': 'streams';
  streams: SourceInfo[];
}

export interface TablesListEntity extends EntityBase {
  '@type': 'tables';
  tables: SourceInfo[];
}

export interface QueryInfo {
  id: string;
  queryString: string;
  sinks: string[];
  sinkKafkaTopics: string[];
  queryType: string;
  state?: string;
  statusCount?: Record<string, number>;
}

export interface QueriesEntity extends EntityBase {
  '@type': 'queries';
  queries: QueryInfo[];
}

export interface FieldSchema {
  type: string;
  fields?: FieldInfo[] | null;
  memberSchema?: FieldSchema | null;
  parameters?: Record<string, unknown>;
}

export interface FieldInfo {
  name: string;
  schema: FieldSchema;
  /** "KEY" or "HEADER" for such columns, absent for value columns. */
  type?: string;
}

export interface SourceDescription {
  name: string;
  type: 'STREAM' | 'TABLE';
  topic: string;
  keyFormat: string;
  valueFormat: string;
  fields: FieldInfo[];
  readQueries: QueryInfo[];
  writeQueries: QueryInfo[];
  windowType?: string | null;
  statement?: string;
  partitions?: number;
  replication?: number;
  [more: string]: unknown;
}

export interface SourceDescriptionEntity extends EntityBase {
  '@type': 'sourceDescription';
  sourceDescription: SourceDescription;
}

export interface KafkaTopicInfo {
  name: string;
  replicaInfo: number[];
}

export interface KafkaTopicsEntity extends EntityBase {
  '@type': 'kafka_topics';
  topics: KafkaTopicInfo[];
}

export interface PropertiesEntity extends EntityBase {
  '@type': 'properties';
  properties: { name: string; scope?: string; value: string; editable?: boolean; level?: string }[];
  overwrittenProperties?: string[];
  defaultProperties?: string[];
}

export interface WarningEntity extends EntityBase {
  '@type': 'warning_entity';
  message: string;
}

export interface TerminateQueryEntity extends EntityBase {
  '@type': 'terminate_query';
  queryId: string;
  wasTerminated: boolean;
}

export interface VariablesEntity extends EntityBase {
  '@type': 'variables';
  variables: { name: string; value: string }[];
}

/** Any other @type (EXPLAIN, functions, connectors, types, asserts…): passed through untouched. */
export interface OtherEntity extends EntityBase {
  '@type': string;
  [field: string]: unknown;
}

export type KnownEntity =
  | CurrentStatusEntity
  | StreamsListEntity
  | TablesListEntity
  | QueriesEntity
  | SourceDescriptionEntity
  | KafkaTopicsEntity
  | PropertiesEntity
  | WarningEntity
  | TerminateQueryEntity
  | VariablesEntity;

export type KsqlEntity = KnownEntity | OtherEntity;

export function isEntity<T extends KnownEntity['@type']>(
  entity: KsqlEntity,
  type: T,
): entity is Extract<KnownEntity, { '@type': T }> {
  return entity['@type'] === type;
}

export interface ServerInfo {
  version: string;
  kafkaClusterId: string;
  ksqlServiceId: string;
  serverStatus?: 'RUNNING' | 'ERROR' | 'DEGRADED' | string;
}

export interface HealthCheck {
  isHealthy: boolean;
  details: Record<string, { isHealthy: boolean }>;
  serverState?: string;
}

/** One /inserts-stream acknowledgement. */
export interface InsertAck {
  seq: number;
}
