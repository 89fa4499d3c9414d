-- Where each job is, keyed by the job id as plain UTF-8 (KAFKA key format) on a 6-partition topic.
CREATE TABLE IF NOT EXISTS joblocation (
  id VARCHAR PRIMARY KEY,
  customername VARCHAR,
  email VARCHAR,
  address VARCHAR,
  dest_lat DOUBLE,
  dest_long DOUBLE,
  reporting_time BIGINT
) WITH (
  KAFKA_TOPIC = 'joblocation',
  VALUE_FORMAT = 'JSON',
  KEY_FORMAT = 'KAFKA',
  PARTITIONS = 6
);
