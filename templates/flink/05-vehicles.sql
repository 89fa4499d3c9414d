-- Position reports of tradespeople's trucks, keyed by vehicle id (the record key); JOB_ID says which job the truck
-- is heading to. `pt` is the arrival order, which picks the latest report per job as ksqlDB's LATEST_BY_OFFSET does.
CREATE TABLE vehicles (
  id STRING,
  JOB_ID STRING,
  STATE STRING,
  LAT DOUBLE,
  `LONG` DOUBLE,
  pt AS PROCTIME()
) WITH (
  'connector' = 'kafka',
  'topic' = 'tradie_truck_location',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'properties.group.id' = 'marketplace-flink',
  'scan.startup.mode' = 'earliest-offset',
  'key.format' = 'raw',
  'key.fields' = 'id',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'value.json.ignore-parse-errors' = 'true'
);
