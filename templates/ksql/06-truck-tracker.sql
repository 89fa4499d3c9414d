-- Latest position of the truck assigned to each job, its distance to the job site (haversine, km) and a rough ETA.
-- The job site's coordinates come from joblocation (alias j); joining on the table's primary key repartitions
-- vehicles by job_id.
CREATE TABLE IF NOT EXISTS truck_tracker WITH (
  KAFKA_TOPIC = 'truck_tracker',
  PARTITIONS = 6,
  VALUE_FORMAT = 'JSON'
) AS
SELECT
  j.id AS job_id,
  LATEST_BY_OFFSET(v.id) AS vehicle_id,
  LATEST_BY_OFFSET(v.lat) AS lat,
  LATEST_BY_OFFSET(v.long) AS long,
  LATEST_BY_OFFSET(j.dest_lat) AS dest_lat,
  LATEST_BY_OFFSET(j.dest_long) AS dest_long,
  LATEST_BY_OFFSET(ROUND(GEO_DISTANCE(v.lat, v.long, j.dest_lat, j.dest_long, 'KM'), 2)) AS distance_from_destination,
  LATEST_BY_OFFSET(ROUND(GREATEST(ABS(v.lat - j.dest_lat), ABS(v.long - j.dest_long)) / (0.5 / 10 / 10) * 2, 2)) AS eta_seconds
FROM vehicles v
JOIN joblocation j ON v.job_id = j.id
GROUP BY j.id
EMIT CHANGES;
