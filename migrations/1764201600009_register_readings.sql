-- Up Migration
-- Register readings: devices that report a running total (an energy register, as OCPP's
-- Energy.Active.Import.Register) instead of the energy since their previous reading.
--
-- `kwh_register` keeps the value the device sent, unchanged (NUMERIC: the difference of
-- two registers is exact in decimal). The energy columns keep their meaning (energy of the
-- interval ending at ts), so every sum, aggregate and analytics query stays as it is: for a
-- register reading they hold the energy derived from the previous register reading of the
-- same device in timestamp order (src/telemetry/register-chain.repository.ts), recomputed
-- when a late reading lands in between. `register_event` says why a register reading counts
-- no energy or counts from zero:
--   first  no earlier register reading is stored: the baseline, 0 kWh
--   reset  the register went down (reboot, replacement, new session): counts from zero
--   jump   the increase is above the physical bound of one interval: stored, counted as 0
-- Interval readings have both columns NULL.
ALTER TABLE meter_telemetry_history
  ADD COLUMN kwh_register numeric CONSTRAINT meter_telemetry_history_register_bounds
    CHECK (kwh_register BETWEEN 0 AND 1000000000),
  ADD COLUMN register_event text CONSTRAINT meter_telemetry_history_register_event
    CHECK (register_event IS NULL OR (register_event IN ('first', 'reset', 'jump') AND kwh_register IS NOT NULL));
ALTER TABLE vehicle_telemetry_history
  ADD COLUMN kwh_register numeric CONSTRAINT vehicle_telemetry_history_register_bounds
    CHECK (kwh_register BETWEEN 0 AND 1000000000),
  ADD COLUMN register_event text CONSTRAINT vehicle_telemetry_history_register_event
    CHECK (register_event IS NULL OR (register_event IN ('first', 'reset', 'jump') AND kwh_register IS NOT NULL));

-- Live state shows the register of the latest reading too (NULL for interval readings).
ALTER TABLE meter_live ADD COLUMN kwh_register numeric;
ALTER TABLE vehicle_live ADD COLUMN kwh_register numeric;

-- Down Migration
-- Register readings keep the interval energy derived for them; only the register values
-- and events are lost.
ALTER TABLE vehicle_live DROP COLUMN kwh_register;
ALTER TABLE meter_live DROP COLUMN kwh_register;
ALTER TABLE vehicle_telemetry_history DROP COLUMN register_event, DROP COLUMN kwh_register;
ALTER TABLE meter_telemetry_history DROP COLUMN register_event, DROP COLUMN kwh_register;
