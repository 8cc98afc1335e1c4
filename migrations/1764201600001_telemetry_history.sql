-- Up Migration
-- Raw readings. Energy columns hold the energy of the interval that ends at ts (since the
-- device's previous reading), so the energy of any window is a plain sum.
--
-- Chunk interval: at the nominal 10,000 devices a stream gets 14.4 M rows a day, about
-- 1.5 GB of heap and indexes: one chunk a day stays well inside the memory of a modest
-- server (TimescaleDB's rule of thumb: a chunk and its indexes within 25 % of RAM).
-- At 100 x that load, shorten it with set_chunk_time_interval() in a new migration.
CREATE TABLE meter_telemetry_history (
  meter_id        text             NOT NULL,
  ts              timestamptz      NOT NULL,
  kwh_consumed_ac double precision NOT NULL CHECK (kwh_consumed_ac >= 0),
  voltage         double precision NOT NULL CHECK (voltage >= 0),
  received_at     timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT meter_telemetry_history_pkey PRIMARY KEY (meter_id, ts)
);
SELECT create_hypertable('meter_telemetry_history', by_range('ts', INTERVAL '1 day'));

CREATE TABLE vehicle_telemetry_history (
  vehicle_id       text             NOT NULL,
  ts               timestamptz      NOT NULL,
  soc              double precision NOT NULL CHECK (soc BETWEEN 0 AND 100),
  kwh_delivered_dc double precision NOT NULL CHECK (kwh_delivered_dc >= 0),
  battery_temp     double precision NOT NULL CHECK (battery_temp BETWEEN -50 AND 150),
  received_at      timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT vehicle_telemetry_history_pkey PRIMARY KEY (vehicle_id, ts)
);
SELECT create_hypertable('vehicle_telemetry_history', by_range('ts', INTERVAL '1 day'));

-- Live state: one row per device, the reading with the latest device timestamp.
CREATE TABLE meter_live (
  meter_id        text PRIMARY KEY,
  ts              timestamptz      NOT NULL,
  kwh_consumed_ac double precision NOT NULL,
  voltage         double precision NOT NULL,
  received_at     timestamptz      NOT NULL
);

CREATE TABLE vehicle_live (
  vehicle_id       text PRIMARY KEY,
  ts               timestamptz      NOT NULL,
  soc              double precision NOT NULL,
  kwh_delivered_dc double precision NOT NULL,
  battery_temp     double precision NOT NULL,
  received_at      timestamptz      NOT NULL
);

-- Down Migration
DROP TABLE vehicle_live;
DROP TABLE meter_live;
DROP TABLE vehicle_telemetry_history;
DROP TABLE meter_telemetry_history;
