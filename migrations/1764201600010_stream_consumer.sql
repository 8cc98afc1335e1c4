-- Up Migration
-- Kinesis stream ingestion (src/streams): the leases and checkpoints of the consumers live
-- next to the data, so a batch of readings and the checkpoint that covers it commit in one
-- transaction.
--
-- One row per shard. `owner` holds the lease until `lease_expires_at` (the database clock,
-- never a consumer's); `lease_counter` goes up each time the lease changes hands and is the
-- fencing token: a consumer commits a checkpoint only while the counter is still the one it
-- took the lease with. Sequence numbers are decimal strings of up to 129 digits (AWS's
-- pattern; 56 in practice, over 128 bits): kept as text, as the client would parse a numeric
-- into a JS number and round it.
CREATE TABLE stream_shard_lease (
  stream_name      text        NOT NULL,
  shard_id         text        NOT NULL,
  parent_shard_ids text[]      NOT NULL DEFAULT '{}',
  owner            text,
  lease_expires_at timestamptz,
  lease_counter    bigint      NOT NULL DEFAULT 0,
  checkpoint       text        CHECK (checkpoint ~ '^(0|[1-9][0-9]{0,128})$'),
  -- The shard is closed (split or merged) and was read to its end: never leased again.
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_name, shard_id),
  CONSTRAINT stream_shard_lease_owned CHECK ((owner IS NULL) = (lease_expires_at IS NULL))
);

-- Records that could not be stored (not JSON, invalid readings, outside the acceptance
-- window), with why: the shard moves on past them. Unique per record, so a record read
-- again after a crash is not dead-lettered twice.
CREATE TABLE stream_dead_letter (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_name     text        NOT NULL,
  shard_id        text        NOT NULL,
  sequence_number text        NOT NULL,
  partition_key   text        NOT NULL,
  arrived_at      timestamptz,
  reason          text        NOT NULL CHECK (reason IN ('not_json', 'invalid_readings', 'too_old')),
  details         jsonb       NOT NULL DEFAULT '[]',
  payload         bytea       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_name, shard_id, sequence_number)
);

-- Down Migration
DROP TABLE stream_dead_letter;
DROP TABLE stream_shard_lease;
