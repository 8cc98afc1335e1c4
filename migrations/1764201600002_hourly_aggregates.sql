-- Up Migration
-- Hourly per-device aggregates. They hold sums and counts (never averages) so that any
-- set of buckets combines exactly: mean = sum of sums / sum of counts.
-- Created WITH NO DATA because a refresh cannot run inside the migration's transaction.
-- materialized_only = false: buckets not yet materialized are computed from the raw
-- history at query time (off by default since TimescaleDB 2.13).
CREATE MATERIALIZED VIEW meter_telemetry_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
  meter_id,
  time_bucket(INTERVAL '1 hour', ts) AS bucket,
  sum(kwh_consumed_ac) AS kwh_consumed_ac,
  count(*)             AS readings,
  sum(voltage)         AS voltage_sum,
  min(voltage)         AS voltage_min,
  max(voltage)         AS voltage_max
FROM meter_telemetry_history
GROUP BY meter_id, bucket
WITH NO DATA;

CREATE MATERIALIZED VIEW vehicle_telemetry_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
  vehicle_id,
  time_bucket(INTERVAL '1 hour', ts) AS bucket,
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

-- Down Migration
DROP MATERIALIZED VIEW vehicle_telemetry_hourly;
DROP MATERIALIZED VIEW meter_telemetry_hourly;
