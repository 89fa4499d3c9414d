-- Position reports of tradespeople's trucks, keyed by vehicle id; job_id says which job the truck is heading to.
CREATE STREAM IF NOT EXISTS vehicles (
  id VARCHAR KEY,
  job_id VARCHAR,
  state VARCHAR,
  lat DOUBLE,
  long DOUBLE
) WITH (
  KAFKA_TOPIC = 'tradie_truck_location',
  VALUE_FORMAT = 'JSON',
  KEY_FORMAT = 'KAFKA',
  PARTITIONS = 6
);
