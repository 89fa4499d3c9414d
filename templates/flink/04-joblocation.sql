-- Where each job is: a table keyed by the job id (the record key, plain UTF-8), the latest record per key winning.
CREATE TABLE joblocation (
  id STRING,
  CUSTOMERNAME STRING,
  EMAIL STRING,
  ADDRESS STRING,
  DEST_LAT DOUBLE,
  DEST_LONG DOUBLE,
  REPORTING_TIME BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'joblocation',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'properties.group.id' = 'marketplace-flink',
  'key.format' = 'raw',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'value.json.ignore-parse-errors' = 'true'
);
