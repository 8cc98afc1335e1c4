-- Up Migration
-- A station's connection is a lease (src/ocpp/connection-lease.ts): the instance holding its
-- socket renews `connected_until` every third of OCPP_CONNECTION_LEASE_MS. An instance that
-- dies without closing (SIGKILL, a lost host) cannot record the disconnection; its stations
-- stop counting as connected once their lease runs out instead of staying connected forever.
-- NULL for connections recorded before this column: they count as connected until they end.
ALTER TABLE charge_points ADD COLUMN connected_until timestamptz;

-- The id tokens stations presented (Authorize, StartTransaction, StopTransaction,
-- TransactionEvent) while no vehicle was mapped to them, answered Accepted
-- (OCPP_ACCEPT_UNKNOWN_ID_TOKENS) or Invalid: what an admin needs to map the cards drivers
-- use (GET /v1/id-tokens?unknown=true). One row per token, upper-case as id_tokens; a token
-- mapped later keeps its row (it is listed with its vehicle), and is no longer counted here.
CREATE TABLE unknown_id_tokens (
  id_token text PRIMARY KEY CHECK (id_token = upper(id_token)),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  last_charge_point_id text NOT NULL,
  -- What the service answered the last time: Accepted or Invalid.
  last_status text NOT NULL,
  times_seen integer NOT NULL DEFAULT 1
);

-- Down Migration
DROP TABLE unknown_id_tokens;
ALTER TABLE charge_points DROP COLUMN connected_until;
