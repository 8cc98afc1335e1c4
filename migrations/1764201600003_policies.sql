-- Up Migration
-- Retention: raw history 30 days, hourly aggregates 2 years.
-- Refresh windows (start_offset 3 days) stay well inside the raw retention: a refresh over
-- dropped chunks would empty the aggregate. The service never re-aggregates late readings:
-- a bucket they change is invalidated and read from the raw rows until a policy refresh
-- re-materializes it (src/aggregates/aggregate-freshness.ts); readings are accepted only
-- well inside the refresh policies' window (src/policies/acceptance-window.ts).
-- Compression: raw chunks older than 7 days, one segment per device, newest first.
ALTER TABLE meter_telemetry_history SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'meter_id',
  timescaledb.compress_orderby = 'ts DESC'
);
ALTER TABLE vehicle_telemetry_history SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'vehicle_id',
  timescaledb.compress_orderby = 'ts DESC'
);
SELECT add_compression_policy('meter_telemetry_history', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('vehicle_telemetry_history', compress_after => INTERVAL '7 days');

SELECT add_retention_policy('meter_telemetry_history', drop_after => INTERVAL '30 days');
SELECT add_retention_policy('vehicle_telemetry_history', drop_after => INTERVAL '30 days');

SELECT add_continuous_aggregate_policy('meter_telemetry_hourly',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('vehicle_telemetry_hourly',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');

SELECT add_retention_policy('meter_telemetry_hourly', drop_after => INTERVAL '2 years');
SELECT add_retention_policy('vehicle_telemetry_hourly', drop_after => INTERVAL '2 years');

-- Down Migration
SELECT remove_retention_policy('vehicle_telemetry_hourly', if_exists => true);
SELECT remove_retention_policy('meter_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('meter_telemetry_hourly', if_exists => true);
SELECT remove_retention_policy('vehicle_telemetry_history', if_exists => true);
SELECT remove_retention_policy('meter_telemetry_history', if_exists => true);
SELECT remove_compression_policy('vehicle_telemetry_history', if_exists => true);
SELECT remove_compression_policy('meter_telemetry_history', if_exists => true);
ALTER TABLE vehicle_telemetry_history SET (timescaledb.compress = false);
ALTER TABLE meter_telemetry_history SET (timescaledb.compress = false);
