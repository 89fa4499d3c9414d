-- The topics' keys have no schema, so Confluent Cloud gives their tables a `key` column of bytes: the vehicle id of a
-- position report, the job id of a job location. joblocation is read as an append table (no key schema), so both
-- sides keep their latest record per key by event time, as the compacted topic and ksqlDB's LATEST_BY_OFFSET mean.
-- The distance is the haversine formula with ksqlDB's earth radius (GEO_DISTANCE, 6371 km); both figures are
-- rounded to 2 places as in templates/ksql.
INSERT INTO truck_tracker
SELECT
  j.id,
  v.vehicle_id,
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
  SELECT CAST(`key` AS STRING) AS vehicle_id, JOB_ID, LAT, `LONG`
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY JOB_ID ORDER BY `$rowtime` DESC) AS rn
    FROM tradie_truck_location
  )
  WHERE rn = 1
) v
JOIN (
  SELECT CAST(`key` AS STRING) AS id, DEST_LAT, DEST_LONG
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY `key` ORDER BY `$rowtime` DESC) AS rn
    FROM joblocation
  )
  WHERE rn = 1
) j ON v.JOB_ID = j.id;
