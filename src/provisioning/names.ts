/** Display names of everything the tool creates: all start with the configured prefix, so `down --discover` finds them. */
export interface ResourceNames {
  prefix: string;
  environment: string;
  kafkaCluster: string;
  serviceAccount: string;
  kafkaApiKey: string;
  ksqlCluster: string;
  ksqlApiKey: string;
  sinkConnector: string;
  schemaRegistryApiKey: string;
  computePool: string;
  flinkApiKey: string;
}

export function resourceNames(prefix: string): ResourceNames {
  return {
    prefix,
    environment: `${prefix}-env`,
    kafkaCluster: `${prefix}-kafka`,
    serviceAccount: `${prefix}-app`,
    kafkaApiKey: `${prefix}-kafka-key`,
    ksqlCluster: `${prefix}-ksqldb`,
    ksqlApiKey: `${prefix}-ksqldb-key`,
    sinkConnector: `${prefix}-mongo-sink`,
    schemaRegistryApiKey: `${prefix}-sr-key`,
    computePool: `${prefix}-pool`,
    flinkApiKey: `${prefix}-flink-key`,
  };
}

export function hasPrefix(name: string | undefined, prefix: string): boolean {
  return name?.startsWith(`${prefix}-`) ?? false;
}
