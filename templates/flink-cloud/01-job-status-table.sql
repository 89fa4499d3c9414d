-- job_status on Confluent Cloud: the same columns as templates/flink (ksqlDB's upper-case names), keyed by JOB_ID
-- as 8 bytes big-endian (ksqlDB's KAFKA BIGINT key). Confluent Cloud makes the topic (one partition, as
-- templates/topics.json) and registers the value's schema as job_status-value when the table is created; its
-- records carry that schema's id, so the MongoDB sink reads them as JSON_SR.
CREATE TABLE job_status (
  JOB_ID BIGINT,
  CUSTOMER_ID STRING,
  SERVICE_OPTION STRING,
  PRICE BIGINT,
  CURRENT_STATUS STRING
) DISTRIBUTED BY (JOB_ID) INTO 1 BUCKETS WITH (
  'changelog.mode' = 'append',
  'key.format' = 'raw',
  'value.format' = 'json-registry'
);
