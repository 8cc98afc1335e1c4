-- Up Migration
-- API keys. Only a SHA-256 hash of each key is stored: keys are 256-bit random strings,
-- so a fast hash is enough (no password stretching needed) and lookups stay cheap.
CREATE TABLE api_keys (
  id         uuid PRIMARY KEY,
  name       text        NOT NULL,
  scopes     text[]      NOT NULL CHECK (scopes <@ ARRAY['ingest', 'read', 'admin']::text[] AND cardinality(scopes) > 0),
  device_id  text,
  key_hash   text        NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- Down Migration
DROP TABLE api_keys;
