-- Up Migration
-- OCPP charging stations (src/ocpp/, docs/ocpp.md). A station authenticates its WebSocket
-- upgrade with HTTP Basic (security profile 1/2): the password an admin set is kept as a
-- scrypt hash only (`scrypt$N$r$p$salt$hash`, base64). What a station reported lives here,
-- not in one instance's memory: it may reconnect to any instance at any time.
CREATE TABLE charge_points (
  charge_point_id text PRIMARY KEY CHECK (charge_point_id ~ '^[A-Za-z0-9._-]{1,48}$'),
  password_hash text NOT NULL,
  -- The subprotocol of its latest connection, and when it last connected, booted, beat.
  protocol text CHECK (protocol IN ('ocpp1.6', 'ocpp2.0.1')),
  connected_at timestamptz,
  disconnected_at timestamptz,
  last_boot_at timestamptz,
  vendor text,
  model text,
  firmware_version text,
  last_heartbeat_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);

-- The latest status of each connector (StatusNotification): live state, one row per connector
-- (1.6) or EVSE (2.0.1, whose statuses carry no error code).
-- `status_at` is the station's timestamp (else the time received): a status sent late by a
-- station that was offline never overwrites a newer one.
CREATE TABLE charge_point_connectors (
  charge_point_id text NOT NULL REFERENCES charge_points ON DELETE CASCADE,
  connector_id integer NOT NULL CHECK (connector_id >= 0),
  status text NOT NULL,
  error_code text,
  info text,
  status_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (charge_point_id, connector_id)
);

-- Transactions (OCPP 1.6 StartTransaction / StopTransaction). The id is the transactionId the
-- station is given; a StartTransaction resent (no answer reached the station) has the same
-- station, connector and start and gets the same id back.
CREATE TABLE charge_point_transactions (
  transaction_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_point_id text NOT NULL REFERENCES charge_points ON DELETE CASCADE,
  connector_id integer NOT NULL CHECK (connector_id > 0),
  id_tag text NOT NULL,
  -- What the service answered for the id tag (Accepted for a mapped one, else Invalid).
  id_tag_status text NOT NULL,
  -- The vehicle the token stood for at the start: it draws from the connector's meter for the
  -- session (src/ocpp/transaction-assignments.ts); NULL for a token mapped to none.
  vehicle_id text,
  started_at timestamptz NOT NULL,
  meter_start_wh numeric NOT NULL,
  stopped_at timestamptz,
  meter_stop_wh numeric,
  stop_reason text,
  UNIQUE (charge_point_id, connector_id, started_at)
);

-- Which vehicle an id token (an RFID card, a contract id) stands for: set by an admin
-- (PUT /v1/id-tokens/{idToken}). Tokens are case-insensitive in OCPP (CiString): kept upper-case.
CREATE TABLE id_tokens (
  id_token text PRIMARY KEY CHECK (id_token = upper(id_token) AND id_token ~ '^[A-Z0-9._:-]{1,36}$'),
  vehicle_id text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE id_tokens;
DROP TABLE charge_point_transactions;
DROP TABLE charge_point_connectors;
DROP TABLE charge_points;
