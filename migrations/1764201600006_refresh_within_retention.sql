-- Up Migration
-- Refresh windows reach back to one day short of the raw retention (30 days) instead of
-- 3 days. Analytics never depend on a refresh for exactness (they read raw whatever
-- TimescaleDB reports as not materialized or invalidated), but the long-lived aggregates
-- must hold every reading before retention drops its raw chunk. With a 3-day window,
-- backfills, stalls and late readings older than 3 days stayed unmaterialized and would
-- have been lost from the 2-year hourly aggregate. A refresh only re-aggregates invalidated
-- ranges, so the wider window costs nothing when nothing changed.
-- Rules kept (docs/exactness.md): start_offset < raw drop_after, so no refresh ever reaches a
-- dropped chunk (that would empty the aggregate there); the API accepts readings only up to
-- start_offset minus a day (src/policies/), read from these policies at run time.
-- buckets_per_batch: a policy refreshes an invalidated range in batches, one transaction
-- each; half a day per batch keeps transactions bounded on a server and makes a refresh of
-- scattered late readings 5-20 x faster than one bucket per batch on the embedded database.
SELECT remove_continuous_aggregate_policy('meter_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('meter_telemetry_15m', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_15m', if_exists => true);
SELECT add_continuous_aggregate_policy('meter_telemetry_hourly', start_offset => INTERVAL '29 days',
  end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes', buckets_per_batch => 12);
SELECT add_continuous_aggregate_policy('vehicle_telemetry_hourly', start_offset => INTERVAL '29 days',
  end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes', buckets_per_batch => 12);
SELECT add_continuous_aggregate_policy('meter_telemetry_15m', start_offset => INTERVAL '29 days',
  end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes', buckets_per_batch => 48);
SELECT add_continuous_aggregate_policy('vehicle_telemetry_15m', start_offset => INTERVAL '29 days',
  end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes', buckets_per_batch => 48);

-- Down Migration
SELECT remove_continuous_aggregate_policy('meter_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_hourly', if_exists => true);
SELECT remove_continuous_aggregate_policy('meter_telemetry_15m', if_exists => true);
SELECT remove_continuous_aggregate_policy('vehicle_telemetry_15m', if_exists => true);
SELECT add_continuous_aggregate_policy('meter_telemetry_hourly',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('vehicle_telemetry_hourly',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('meter_telemetry_15m',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('vehicle_telemetry_15m',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
