-- Up Migration
-- Archive of the raw history to object storage (S3) before a chunk is dropped: docs/archive.md.
--
-- Two modes per raw hypertable, switched by a migration so a DBA manages them like the other
-- policies (this one leaves both tables in retention mode, i.e. as before):
--   retention mode: TimescaleDB's retention policy drops chunks after drop_after, unarchived;
--   archive mode:   no retention policy; the service's archive job writes every chunk older
--                   than hot_period to Parquet, verifies the object and only then drops it.
-- Switch with `SELECT archive_mode_on('meter_telemetry_history', INTERVAL '30 days');` and back
-- with `SELECT archive_mode_off('meter_telemetry_history', INTERVAL '30 days');`: each changes
-- the setting and the retention policy in one transaction, so the two never both drop chunks.
-- The hot period plays the part of drop_after for the acceptance window (src/policies/): keep
-- every refresh policy's start_offset below it.
CREATE TABLE archive_settings (
  hypertable   text        PRIMARY KEY,
  stream       text        NOT NULL UNIQUE CHECK (stream IN ('meter', 'vehicle')),
  enabled      boolean     NOT NULL DEFAULT false,
  hot_period   interval    NOT NULL DEFAULT INTERVAL '30 days' CHECK (hot_period >= INTERVAL '2 days'),
  run_interval interval    NOT NULL DEFAULT INTERVAL '1 hour' CHECK (run_interval >= INTERVAL '1 minute'),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO archive_settings (hypertable, stream) VALUES
  ('meter_telemetry_history', 'meter'),
  ('vehicle_telemetry_history', 'vehicle');

-- One row per archived (or being archived) chunk, keyed by its time range: a chunk dropped and
-- re-created by a restore has a new id but the same range, and finds its object again here.
-- object_key is fixed when the row is first written (never changed): every attempt writes the
-- same object, so reruns and crashes cannot leave two objects for one chunk.
-- status: pending (claimed, nothing verified) -> uploaded (object written, not yet read back)
--   -> verified (read back equal to the chunk) -> dropped (the chunk was dropped in the
--   transaction that wrote this status).
CREATE TABLE archive_manifest (
  hypertable     text        NOT NULL REFERENCES archive_settings (hypertable),
  range_start    timestamptz NOT NULL,
  range_end      timestamptz NOT NULL,
  chunk_id       integer     NOT NULL,
  object_key     text        NOT NULL UNIQUE,
  status         text        NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'uploaded', 'verified', 'dropped')),
  schema_version integer,
  row_count      bigint,
  min_ts         timestamptz,
  max_ts         timestamptz,
  -- Per device: row count, first/last/summed timestamps (microseconds) and the sums of each
  -- value column added in time order (bit-exact: the same additions in SQL and in the job).
  device_summary jsonb,
  sha256         text,
  bytes          bigint,
  failures       integer     NOT NULL DEFAULT 0,
  last_error     text,
  last_failed_at timestamptz,
  -- Which service instance works on the chunk, until when (a lease: a crashed one's expires).
  claimed_by     text,
  claimed_until  timestamptz,
  -- A restore keeps the restored chunk until then before the job may drop it again.
  hold_until     timestamptz,
  verified_at    timestamptz,
  dropped_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hypertable, range_start),
  CHECK (range_start < range_end),
  CHECK (status = 'pending' OR (row_count IS NOT NULL AND device_summary IS NOT NULL AND sha256 IS NOT NULL))
);

CREATE FUNCTION archive_mode_on(relation text, hot_period interval DEFAULT INTERVAL '30 days')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE archive_settings s SET enabled = true, hot_period = archive_mode_on.hot_period, updated_at = now()
   WHERE s.hypertable = relation;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no archive settings for %', relation;
  END IF;
  PERFORM remove_retention_policy(relation::regclass, if_exists => true);
END
$$;

CREATE FUNCTION archive_mode_off(relation text, drop_after interval DEFAULT INTERVAL '30 days')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE archive_settings s SET enabled = false, updated_at = now() WHERE s.hypertable = relation;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no archive settings for %', relation;
  END IF;
  PERFORM remove_retention_policy(relation::regclass, if_exists => true);
  PERFORM add_retention_policy(relation::regclass, drop_after => archive_mode_off.drop_after);
END
$$;

-- Down Migration
-- Back to retention mode first (a no-op for tables already in it).
SELECT archive_mode_off(hypertable) FROM archive_settings WHERE enabled;
DROP FUNCTION archive_mode_off(text, interval);
DROP FUNCTION archive_mode_on(text, interval);
DROP TABLE archive_manifest;
DROP TABLE archive_settings;
