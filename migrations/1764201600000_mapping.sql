-- Up Migration
CREATE EXTENSION IF NOT EXISTS timescaledb;

-- One meter per vehicle: the meter that measures the AC energy the vehicle's charger draws.
CREATE TABLE vehicle_meter_mapping (
  vehicle_id text PRIMARY KEY,
  meter_id   text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_meter_mapping_meter_id_idx ON vehicle_meter_mapping (meter_id);

-- Down Migration
DROP TABLE vehicle_meter_mapping;
