/**
 * Confluent Cloud's fully managed MongoDB Atlas Sink, as far as the fact sheet knows it: which keys it requires and
 * accepts, and how a config translates to the self-managed MongoSinkConnector that really runs on local Connect.
 */

export const ATLAS_SINK_CLASS = 'MongoDbAtlasSink';
const INPUT_FORMATS = ['AVRO', 'JSON_SR', 'PROTOBUF', 'JSON', 'STRING', 'BSON'];
const ID_STRATEGIES = [
  'BsonOidStrategy',
  'KafkaMetaDataStrategy',
  'FullKeyStrategy',
  'ProvidedInKeyStrategy',
  'ProvidedInValueStrategy',
  'PartialKeyStrategy',
  'PartialValueStrategy',
  'UuidStrategy',
];
const WRITE_STRATEGIES = [
  'DefaultWriteModelStrategy',
  'ReplaceOneDefaultStrategy',
  'ReplaceOneBusinessKeyStrategy',
  'UpdateOneTimestampsStrategy',
  'UpdateOneBusinessKeyTimestampStrategy',
  'InsertOneDefaultStrategy',
  'DeleteOneDefaultStrategy',
];

interface KeyRule {
  name: string;
  required: boolean | ((config: Record<string, string>) => boolean);
  allowed?: string[];
  check?: (value: string) => string | undefined;
}

const RULES: KeyRule[] = [
  { name: 'connector.class', required: true, allowed: [ATLAS_SINK_CLASS] },
  { name: 'name', required: true },
  { name: 'kafka.auth.mode', required: true, allowed: ['KAFKA_API_KEY', 'SERVICE_ACCOUNT'] },
  { name: 'kafka.api.key', required: (c) => c['kafka.auth.mode'] === 'KAFKA_API_KEY' },
  { name: 'kafka.api.secret', required: (c) => c['kafka.auth.mode'] === 'KAFKA_API_KEY' },
  {
    name: 'kafka.service.account.id',
    required: (c) => c['kafka.auth.mode'] === 'SERVICE_ACCOUNT',
    check: (v) => (/^sa-/.test(v) ? undefined : 'must be a service account id (sa-…)'),
  },
  {
    name: 'topics',
    required: true,
    check: (v) =>
      v.split(',').every((t) => /^[a-zA-Z0-9._-]+$/.test(t.trim()))
        ? undefined
        : 'must be a comma-separated list of topic names',
  },
  { name: 'input.data.format', required: true, allowed: INPUT_FORMATS },
  {
    name: 'connection.host',
    required: true,
    check: (v) =>
      /^[a-z]+(\+srv)?:\/\//i.test(v)
        ? 'is a host name only, without mongodb+srv://'
        : /^[A-Za-z0-9.-]+(:\d+)?$/.test(v)
          ? undefined
          : 'is not a host name',
  },
  { name: 'connection.user', required: true },
  { name: 'connection.password', required: true },
  { name: 'database', required: true },
  { name: 'collection', required: false },
  {
    name: 'tasks.max',
    required: true,
    check: (v) => (/^[1-9]\d*$/.test(v) ? undefined : 'must be a positive whole number'),
  },
  { name: 'doc.id.strategy', required: false, allowed: ID_STRATEGIES },
  { name: 'write.strategy', required: false, allowed: WRITE_STRATEGIES },
  { name: 'delete.on.null.values', required: false, allowed: ['true', 'false'] },
  { name: 'max.batch.size', required: false, check: (v) => (/^\d+$/.test(v) ? undefined : 'must be a whole number') },
];

const KNOWN = new Set([
  ...RULES.map((rule) => rule.name),
  'doc.id.strategy.overwrite.existing',
  'document.id.strategy.uuid.format',
  'key.projection.type',
  'key.projection.list',
  'value.projection.type',
  'value.projection.list',
  'max.num.retries',
  'retries.defer.timeout',
  'bulk.write.ordered',
  'rate.limiting.timeout',
  'rate.limiting.every.n',
  'cdc.handler',
  'timeseries.timefield',
  'timeseries.timefield.auto.convert',
  'timeseries.timefield.auto.convert.date.format',
  'schema.context.name',
  'value.subject.name.strategy',
  // Filled in by the service; clients may send them back.
  'cloud.environment',
  'cloud.provider',
  'kafka.endpoint',
  'kafka.region',
  'confluent.connector.type',
]);

export const SENSITIVE_KEYS = ['kafka.api.secret', 'connection.password'];

/** Errors per key, in Connect's validate layout. */
export function validateAtlasSink(
  config: Record<string, string>,
): { name: string; value?: string; errors: string[] }[] {
  const results = RULES.map((rule) => {
    const value = config[rule.name];
    const errors: string[] = [];
    const required = typeof rule.required === 'function' ? rule.required(config) : rule.required;
    if (value === undefined || value === '') {
      if (required) errors.push(`"${rule.name}" is required`);
    } else {
      if (rule.allowed && !rule.allowed.includes(value))
        errors.push(`Invalid value ${value} for configuration ${rule.name}: must be one of ${rule.allowed.join(', ')}`);
      const problem = rule.check?.(value);
      if (problem) errors.push(`"${rule.name}" ${problem}`);
    }
    return { name: rule.name, value, errors };
  });
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key))
      results.push({
        name: key,
        value: config[key],
        errors: [`"${key}" is not a configuration of ${ATLAS_SINK_CLASS}`],
      });
  }
  return results;
}

/** The self-managed connector config that does the same work on the local Connect worker, writing to FerretDB. */
export function toLocalMongoSink(
  config: Record<string, string>,
  mongoUri: string,
): { config: Record<string, string>; unsupported?: string } {
  const format = config['input.data.format'];
  if (format && !['JSON', 'STRING', 'BSON'].includes(format)) {
    return {
      config: {},
      unsupported: `input.data.format ${format} needs Schema Registry, which this emulator does not provide`,
    };
  }
  const local: Record<string, string> = {
    'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
    topics: config['topics']!,
    'connection.uri': mongoUri,
    database: config['database']!,
    'tasks.max': config['tasks.max'] ?? '1',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter':
      format === 'JSON'
        ? 'org.apache.kafka.connect.json.JsonConverter'
        : 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter.schemas.enable': 'false',
  };
  if (config['collection']) local['collection'] = config['collection'];
  if (config['doc.id.strategy'])
    local['document.id.strategy'] = `com.mongodb.kafka.connect.sink.processor.id.strategy.${config['doc.id.strategy']}`;
  if (config['doc.id.strategy.overwrite.existing'])
    local['document.id.strategy.overwrite.existing'] = config['doc.id.strategy.overwrite.existing'];
  if (config['write.strategy'] && config['write.strategy'] !== 'DefaultWriteModelStrategy') {
    local['writemodel.strategy'] = `com.mongodb.kafka.connect.sink.writemodel.strategy.${config['write.strategy']}`;
  }
  if (config['delete.on.null.values']) local['delete.on.null.values'] = config['delete.on.null.values'];
  if (config['max.batch.size']) local['max.batch.size'] = config['max.batch.size'];
  return { config: local };
}
