-- Latest position of the truck heading to each job, its distance to the job site and a rough ETA: an upsert table
-- keyed by the job id (plain UTF-8, as ksqlDB's KAFKA STRING key) with ksqlDB's column names. The distance is the
-- haversine formula with ksqlDB's earth radius (GEO_DISTANCE, 6371 km), both rounded to 2 places as the ksqlDB
-- statement does. Upserts are idempotent, so at-least-once delivery is enough here.
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
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'truck_tracker',
  'properties.bootstrap.servers' = '${bootstrapServers}',
  'key.format' = 'raw',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY'
);

INSERT INTO truck_tracker
SELECT
  j.id,
  v.id,
  v.LAT,
  v.`LONG`,
  j.DEST_LAT,
  j.DEST_LONG,
  ROUND(
    2 * 6371 * ASIN(SQRT(
      POWER(SIN(RADIANS(j.DEST_LAT - v.LAT) / 2), 2)
      + COS(RADIANS(v.LAT)) * COS(RADIANS(j.DEST_LAT)) * POWER(SIN(RADIANS(j.DEST_LONG - v.`LONG`) / 2), 2)
    )),
    2
  ),
  ROUND(GREATEST(ABS(v.LAT - j.DEST_LAT), ABS(v.`LONG` - j.DEST_LONG)) / (0.5 / 10 / 10) * 2, 2)
FROM (
  SELECT id, JOB_ID, LAT, `LONG`
  FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY JOB_ID ORDER BY pt DESC) AS rn FROM vehicles)
  WHERE rn = 1
) v
JOIN joblocation j ON v.JOB_ID = j.id;
