-- Up Migration
-- Quarter-hour per-device aggregates for 15-minute series (and the quarter hours at the
-- edges of a window). Same shape and rules as the hourly ones: sums and counts only,
-- real-time (materialized_only = false), created empty because a refresh cannot run
-- inside the migration's transaction.
CREATE MATERIALIZED VIEW meter_telemetry_15m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
  meter_id,
  time_bucket(INTERVAL '15 minutes', ts) AS bucket,
  sum(kwh_consumed_ac) AS kwh_consumed_ac,
  count(*)             AS readings,
  sum(voltage)         AS voltage_sum,
  min(voltage)         AS voltage_min,
  max(voltage)         AS voltage_max
FROM meter_telemetry_history
GROUP BY meter_id, bucket
WITH NO DATA;

CREATE MATERIALIZED VIEW vehicle_telemetry_15m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
  vehicle_id,
  time_bucket(INTERVAL '15 minutes', ts) AS bucket,
  sum(kwh_delivered_dc) AS kwh_delivered_dc,
  count(*)              AS readings,
  sum(battery_temp)     AS battery_temp_sum,
  min(battery_temp)     AS battery_temp_min,
  max(battery_temp)     AS battery_temp_max,
  min(soc)              AS soc_min,
  max(soc)              AS soc_max
FROM vehicle_telemetry_history
GROUP BY vehicle_id, bucket
WITH NO DATA;

-- end_offset one hour, as for the hourly aggregates: a reading newer than an hour is
-- always above every watermark, which is what the late-reading refresh relies on.
SELECT add_continuous_aggregate_policy('meter_telemetry_15m',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('vehicle_telemetry_15m',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');

-- Quarter hours are for recent detail: kept as long as the raw history plus a margin.
SELECT add_retention_policy('meter_telemetry_15m', drop_after => INTERVAL '90 days');
SELECT add_retention_policy('vehicle_telemetry_15m', drop_after => INTERVAL '90 days');

-- Down Migration
SELECT remove_retention_policy('vehicle_telemetry_15m', if_exists => true);
SELECT remove_retention_policy('meter_telemetry_15m', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_15m', if_exists => true);
SELECT remove_continuous_aggregate_policy('meter_telemetry_15m', if_exists => true);
DROP MATERIALIZED VIEW vehicle_telemetry_15m;
DROP MATERIALIZED VIEW meter_telemetry_15m;
