-- Each order meets its job when their timestamps are at most one hour apart; the quote decides the status.
-- Output columns are named explicitly (an unaliased o.job_id would come out as O_JOB_ID), and the grace period
-- bounds how late a record may arrive and still join. The sink key is job_id (BIGINT, 8 bytes big-endian).
CREATE STREAM IF NOT EXISTS job_status WITH (
  KAFKA_TOPIC = 'job_status',
  VALUE_FORMAT = 'JSON'
) AS
SELECT
  o.job_id AS job_id,
  o.customer_id AS customer_id,
  o.service_option AS service_option,
  j.price AS price,
  CASE WHEN o.price_quoted >= j.price THEN 'ACCEPTED' ELSE 'REJECTED' END AS current_status
FROM jobs_created j
INNER JOIN orders_placed o WITHIN 1 HOUR GRACE PERIOD 15 MINUTES ON o.job_id = j.job_id
EMIT CHANGES;
