-- Orders customers place for a job: the right-hand side of the job_status join.
-- No KEY column: the join on job_id repartitions this stream by job_id.
CREATE STREAM IF NOT EXISTS orders_placed (
  job_id BIGINT,
  customer_id VARCHAR,
  service_option VARCHAR,
  contractor_id VARCHAR,
  location VARCHAR,
  price_quoted BIGINT
) WITH (
  KAFKA_TOPIC = 'order_placed',
  VALUE_FORMAT = 'JSON'
);
