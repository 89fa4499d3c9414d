-- Jobs as they are created, with the minimum price a contractor charges: the left side of the job_status join.
CREATE STREAM IF NOT EXISTS jobs_created (
  job_id BIGINT,
  job_start_date VARCHAR,
  job_end_date VARCHAR,
  price BIGINT,
  job_status VARCHAR
) WITH (
  KAFKA_TOPIC = 'job_created',
  VALUE_FORMAT = 'JSON'
);
