-- Orders customers place for a job: one side of the job_status join. JSON field names are case-sensitive in Flink,
-- and the producers write these in lower case. Event time is the record's timestamp, as in ksqlDB; the watermark
-- trails it by ksqlDB's grace period, so a record up to 15 minutes late still joins.
CREATE TABLE orders_placed (
  job_id BIGINT,
  customer_id STRING,
  service_option STRING,
  contractor_id STRING,
  location STRING,
  price_quoted BIGINT,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR ts AS ts - INTERVAL '15' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'order_placed',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'properties.group.id' = 'marketplace-flink',
  'scan.startup.mode' = 'earliest-offset',
  'value.format' = 'json',
  'value.json.ignore-parse-errors' = 'true'
);
