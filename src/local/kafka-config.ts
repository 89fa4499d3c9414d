import type { KafkaUser } from './kafka-users.js';
import { plainJaasConfig } from './kafka-users.js';
import type { StackPaths, StackPorts } from './settings.js';

/** A .properties file from ordered pairs (values are written verbatim: none of ours needs escaping). */
export function propertiesFile(entries: [string, string | number][]): string {
  return `${entries.map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

/** KRaft combined broker+controller with a CC-like SASL_SSL/PLAIN listener next to the plaintext one. */
export function brokerProperties(paths: StackPaths, ports: StackPorts, users: KafkaUser[]): string {
  return propertiesFile([
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@127.0.0.1:${ports.kafkaController}`],
    ['controller.listener.names', 'CONTROLLER'],
    [
      'listeners',
      `PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.kafkaController},SASL_SSL://127.0.0.1:${ports.kafkaSasl}`,
    ],
    ['advertised.listeners', `PLAINTEXT://127.0.0.1:${ports.kafka},SASL_SSL://localhost:${ports.kafkaSasl}`],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL'],
    ['sasl.enabled.mechanisms', 'PLAIN'],
    ['listener.name.sasl_ssl.plain.sasl.jaas.config', plainJaasConfig(users)],
    ['listener.name.sasl_ssl.ssl.keystore.type', 'PEM'],
    ['listener.name.sasl_ssl.ssl.keystore.location', paths.brokerKeystore],
    ['log.dirs', `${paths.data}/kafka`],
    ['num.partitions', 1],
    ['auto.create.topics.enable', 'false'],
    ['offsets.topic.replication.factor', 1],
    ['offsets.topic.num.partitions', 10],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['transaction.state.log.num.partitions', 5],
    ['group.initial.rebalance.delay.ms', 0],
    ['num.network.threads', 2],
    ['num.io.threads', 4],
    ['log.retention.hours', 168],
  ]);
}

export function connectWorkerProperties(paths: StackPaths, ports: StackPorts): string {
  return propertiesFile([
    ['bootstrap.servers', `127.0.0.1:${ports.kafka}`],
    ['group.id', 'marketplace-local-connect'],
    ['key.converter', 'org.apache.kafka.connect.json.JsonConverter'],
    ['value.converter', 'org.apache.kafka.connect.json.JsonConverter'],
    ['key.converter.schemas.enable', 'false'],
    ['value.converter.schemas.enable', 'false'],
    ['config.storage.topic', '_marketplace-connect-configs'],
    ['offset.storage.topic', '_marketplace-connect-offsets'],
    ['status.storage.topic', '_marketplace-connect-status'],
    ['config.storage.replication.factor', 1],
    ['offset.storage.replication.factor', 1],
    ['status.storage.replication.factor', 1],
    ['offset.storage.partitions', 1],
    ['status.storage.partitions', 1],
    ['offset.flush.interval.ms', 1000],
    ['scheduled.rebalance.max.delay.ms', 0],
    // Sink connectors read only committed output: the ksqlDB dev server writes in transactions (exactly-once).
    ['consumer.isolation.level', 'read_committed'],
    ['listeners', `http://127.0.0.1:${ports.connect}`],
    ['rest.advertised.host.name', '127.0.0.1'],
    ['rest.advertised.port', ports.connect],
    ['plugin.path', paths.pluginPath],
    // The mongo `all` jar ships no ServiceLoader manifests; scanning finds it without the hybrid-mode warnings.
    ['plugin.discovery', 'only_scan'],
  ]);
}

/** Console-only log4j 1 config: the process's stdout is the service's log file. */
export function log4jProperties(): string {
  return propertiesFile([
    ['log4j.rootLogger', 'INFO, stdout'],
    ['log4j.appender.stdout', 'org.apache.log4j.ConsoleAppender'],
    ['log4j.appender.stdout.layout', 'org.apache.log4j.PatternLayout'],
    ['log4j.appender.stdout.layout.ConversionPattern', '[%d] %p %m (%c)%n'],
    ['log4j.logger.kafka.request.logger', 'WARN'],
    ['log4j.logger.org.apache.kafka.controller', 'INFO'],
    ['log4j.logger.org.reflections', 'ERROR'],
  ]);
}
