-- job_status with ksqlDB's meaning and bytes: each order meets its job when their timestamps are at most one hour
-- apart either way (ksqlDB's WITHIN 1 HOUR; both bounds included); the record key is JOB_ID as 8 bytes big-endian
-- (ksqlDB's KAFKA BIGINT key), the value holds the other columns under ksqlDB's upper-case names, and the record
-- timestamp is the later of the two input timestamps, as ksqlDB stamps a join's output.
-- Exactly-once: rows are written in Kafka transactions committed with each checkpoint, so a restarted job neither
-- repeats nor loses a row (readers see rows once committed, within a checkpoint interval).
CREATE TABLE job_status (
  JOB_ID BIGINT,
  CUSTOMER_ID STRING,
  SERVICE_OPTION STRING,
  PRICE BIGINT,
  CURRENT_STATUS STRING,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'job_status',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'key.format' = 'raw',
  'key.fields' = 'JOB_ID',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'marketplace-job_status',
  'properties.transaction.timeout.ms' = '900000'
);

INSERT INTO job_status
SELECT
  o.job_id,
  o.customer_id,
  o.service_option,
  j.price,
  CASE WHEN o.price_quoted >= j.price THEN 'ACCEPTED' ELSE 'REJECTED' END,
  GREATEST(o.ts, j.ts)
FROM jobs_created j
JOIN orders_placed o
  ON o.job_id = j.job_id
  AND o.ts BETWEEN j.ts - INTERVAL '1' HOUR AND j.ts + INTERVAL '1' HOUR;
