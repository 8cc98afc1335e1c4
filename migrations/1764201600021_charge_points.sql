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

-- The latest status of each connector (StatusNotification): live state, one row per connector.
-- `status_at` is the station's timestamp (else the time received): a status sent late by a
-- station that was offline never overwrites a newer one.
CREATE TABLE charge_point_connectors (
  charge_point_id text NOT NULL REFERENCES charge_points ON DELETE CASCADE,
  connector_id integer NOT NULL CHECK (connector_id >= 0),
  status text NOT NULL,
  error_code text NOT NULL,
  info text,
  status_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (charge_point_id, connector_id)
);

-- Down Migration
DROP TABLE charge_point_connectors;
DROP TABLE charge_points;
