-- Latest position of the truck heading to each job: an upsert table keyed by the job id (plain UTF-8, as ksqlDB's
-- KAFKA STRING key) with the column names of templates/flink and ksqlDB, over six partitions.
CREATE TABLE truck_tracker (
  JOB_ID STRING,
  VEHICLE_ID STRING,
  LAT DOUBLE,
  `LONG` DOUBLE,
  DEST_LAT DOUBLE,
  DEST_LONG DOUBLE,
  DISTANCE_FROM_DESTINATION DOUBLE,
  ETA_SECONDS DOUBLE,
  PRIMARY KEY (JOB_ID) NOT ENFORCED
) DISTRIBUTED BY (JOB_ID) INTO 6 BUCKETS WITH (
  'changelog.mode' = 'upsert',
  'key.format' = 'raw',
  'value.format' = 'json-registry'
);
