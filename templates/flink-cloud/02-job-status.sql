-- Each order meets its job when their timestamps are at most one hour apart either way (ksqlDB's WITHIN 1 HOUR, both
-- bounds included). On Confluent Cloud every topic is a table whose columns come from its value subject (the data
-- contracts of templates/schemas) and whose `$rowtime` is the record timestamp, with the default watermark.
INSERT INTO job_status
SELECT
  o.job_id,
  o.customer_id,
  o.service_option,
  j.price,
  CASE WHEN o.price_quoted >= j.price THEN 'ACCEPTED' ELSE 'REJECTED' END
FROM job_created j
JOIN order_placed o
  ON o.job_id = j.job_id
  AND o.`$rowtime` BETWEEN j.`$rowtime` - INTERVAL '1' HOUR AND j.`$rowtime` + INTERVAL '1' HOUR;
