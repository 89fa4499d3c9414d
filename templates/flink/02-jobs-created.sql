-- Jobs as they are created, with the minimum price a contractor charges: the other side of the job_status join.
CREATE TABLE jobs_created (
  job_id BIGINT,
  job_start_date STRING,
  job_end_date STRING,
  price BIGINT,
  job_status STRING,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR ts AS ts - INTERVAL '15' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'job_created',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'properties.group.id' = 'marketplace-flink',
  'scan.startup.mode' = 'earliest-offset',
  'value.format' = 'json',
  'value.json.ignore-parse-errors' = 'true'
);
