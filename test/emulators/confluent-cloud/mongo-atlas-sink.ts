/**
 * Confluent Cloud's fully managed MongoDB Atlas Sink, as far as the fact sheet and dumps of the real plugin's
 * configuration show it: which keys it requires and accepts, its defaults (errors.tolerance=all with a dead letter
 * queue `dlq-<connector id>`), and how a config translates to the self-managed MongoSinkConnector that really runs
 * on local Connect.
 */

export const ATLAS_SINK_CLASS = 'MongoDbAtlasSink';
const INPUT_FORMATS = ['AVRO', 'JSON_SR', 'PROTOBUF', 'JSON', 'STRING', 'BSON'];
const KEY_FORMATS = [...INPUT_FORMATS, 'BYTES'];
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
  // KAFKA_API_KEY when left out.
  { name: 'kafka.auth.mode', required: false, allowed: ['KAFKA_API_KEY', 'SERVICE_ACCOUNT'] },
  { name: 'kafka.api.key', required: (c) => kafkaAuthMode(c) === 'KAFKA_API_KEY' },
  { name: 'kafka.api.secret', required: (c) => kafkaAuthMode(c) === 'KAFKA_API_KEY' },
  {
    name: 'kafka.service.account.id',
    required: (c) => c['kafka.auth.mode'] === 'SERVICE_ACCOUNT',
    check: (v) => (/^sa-/.test(v) ? undefined : 'must be a service account id (sa-…)'),
  },
  {
    name: 'topics',
    // One of topics and topics.regex, not both.
    required: (c) => !c['topics.regex'],
    check: (v) =>
      v.split(',').every((t) => /^[a-zA-Z0-9._-]+$/.test(t.trim()))
        ? undefined
        : 'must be a comma-separated list of topic names',
  },
  {
    name: 'topics.regex',
    required: false,
    check: (v) => {
      try {
        new RegExp(v);
        return undefined;
      } catch {
        return 'is not a regular expression';
      }
    },
  },
  { name: 'input.data.format', required: true, allowed: INPUT_FORMATS },
  { name: 'input.key.format', required: false, allowed: KEY_FORMATS },
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
  // Optional: an X.509 login has no user, and a namespace mapper can name the database per record.
  { name: 'connection.user', required: false },
  { name: 'connection.password', required: true },
  { name: 'database', required: false },
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
  { name: 'errors.tolerance', required: false, allowed: ['all', 'none'] },
  { name: 'auto.restart.on.user.error', required: false, allowed: ['true', 'false'] },
];

/** Families of keys the plugin accepts under a common prefix. */
const KNOWN_PREFIXES = ['namespace.mapper.', 'max.poll.', 'value.converter.', 'key.converter.'];

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
  'key.subject.name.strategy',
  'mongodb.instance.type',
  'mongodb.auth.mechanism',
  'delete.write.strategy',
  // Filled in by the service; clients may send them back.
  'cloud.environment',
  'cloud.provider',
  'kafka.endpoint',
  'kafka.region',
  'confluent.connector.type',
]);

export const SENSITIVE_KEYS = ['kafka.api.secret', 'connection.password'];
/** What reads of a connector's config mask: the secrets, and the Kafka API key too. */
export const MASKED_ON_READ = [...SENSITIVE_KEYS, 'kafka.api.key'];

export function kafkaAuthMode(config: Record<string, string>): string {
  return config['kafka.auth.mode'] || 'KAFKA_API_KEY';
}

/** The dead letter queue Confluent Cloud gives a sink that tolerates errors: dlq-<connector id>. */
export function deadLetterTopic(config: Record<string, string>, connectorId: string): string | undefined {
  return (config['errors.tolerance'] ?? 'all') === 'all' ? `dlq-${connectorId}` : undefined;
}

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
  if (config['topics'] && config['topics.regex']) {
    results.push({
      name: 'topics.regex',
      value: config['topics.regex'],
      errors: ['"topics" and "topics.regex" cannot both be set'],
    });
  }
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key) && !KNOWN_PREFIXES.some((prefix) => key.startsWith(prefix)))
      results.push({
        name: key,
        value: config[key],
        errors: [`"${key}" is not a configuration of ${ATLAS_SINK_CLASS}`],
      });
  }
  return results;
}

const CONVERTERS: Record<string, string> = {
  JSON: 'org.apache.kafka.connect.json.JsonConverter',
  // What Confluent Flink writes (json-registry) the emulator's Flink tables write as plain JSON (flink-sql.ts), so
  // JSON with a schema id reads as plain JSON here.
  JSON_SR: 'org.apache.kafka.connect.json.JsonConverter',
  STRING: 'org.apache.kafka.connect.storage.StringConverter',
  BSON: 'org.apache.kafka.connect.storage.StringConverter',
  BYTES: 'org.apache.kafka.connect.converters.ByteArrayConverter',
};

/**
 * The self-managed connector config that does the same work on the local Connect worker, writing to FerretDB.
 * `connectorId` (lcc-…) names the dead letter queue.
 */
export function toLocalMongoSink(
  config: Record<string, string>,
  mongoUri: string,
  connectorId: string,
): { config: Record<string, string>; unsupported?: string } {
  const format = config['input.data.format'];
  const keyFormat = config['input.key.format'];
  for (const [key, value] of [
    ['input.data.format', format],
    ['input.key.format', keyFormat],
  ] as const) {
    if (value && !CONVERTERS[value])
      return {
        config: {},
        unsupported: `${key} ${value} needs Schema Registry, which this emulator does not provide`,
      };
  }
  const mapper = Object.keys(config).filter((key) =>
    /^namespace\.mapper\..+\.field$|^namespace\.mapper\.error/.test(key),
  );
  if (!config['database'] && !mapper.some((key) => key.includes('.database.'))) {
    return { config: {}, unsupported: 'no database: set "database", or a namespace.mapper database field' };
  }
  const local: Record<string, string> = {
    'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector',
    ...(config['topics.regex'] ? { 'topics.regex': config['topics.regex'] } : { topics: config['topics']! }),
    'connection.uri': mongoUri,
    'tasks.max': config['tasks.max'] ?? '1',
    'key.converter': CONVERTERS[keyFormat ?? 'STRING']!,
    'value.converter': CONVERTERS[format ?? 'JSON']!,
    'value.converter.schemas.enable': 'false',
  };
  if (config['database']) local['database'] = config['database'];
  if (mapper.length > 0) {
    local['namespace.mapper'] = 'com.mongodb.kafka.connect.sink.namespace.mapping.FieldPathNamespaceMapper';
    for (const key of mapper) local[key] = config[key]!;
  }
  const dlq = deadLetterTopic(config, connectorId);
  if (dlq) {
    // A record the sink cannot convert or write goes to the DLQ and the connector keeps RUNNING.
    Object.assign(local, {
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    });
  } else {
    local['errors.tolerance'] = 'none';
  }
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
