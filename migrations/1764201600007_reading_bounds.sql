-- Up Migration
-- Physical bounds of every stored value (the API's are the same: src/telemetry/reading-bounds.ts).
-- They keep every sum the analytics and the aggregates compute finite: before them, two
-- readings of 1e308 kWh made the refresh policies fail on every run and every fleet query a
-- 500. Adding a constraint checks the rows already stored: a database holding values outside
-- these bounds refuses the migration, naming the constraint; fix or remove those rows first.
ALTER TABLE meter_telemetry_history ADD CONSTRAINT meter_telemetry_history_bounds
  CHECK (kwh_consumed_ac <= 10000 AND voltage <= 1000);
ALTER TABLE vehicle_telemetry_history ADD CONSTRAINT vehicle_telemetry_history_bounds
  CHECK (kwh_delivered_dc <= 10000);
ALTER TABLE meter_live ADD CONSTRAINT meter_live_bounds
  CHECK (kwh_consumed_ac BETWEEN 0 AND 10000 AND voltage BETWEEN 0 AND 1000);
ALTER TABLE vehicle_live ADD CONSTRAINT vehicle_live_bounds
  CHECK (kwh_delivered_dc BETWEEN 0 AND 10000 AND soc BETWEEN 0 AND 100 AND battery_temp BETWEEN -50 AND 150);

-- Down Migration
ALTER TABLE vehicle_live DROP CONSTRAINT vehicle_live_bounds;
ALTER TABLE meter_live DROP CONSTRAINT meter_live_bounds;
ALTER TABLE vehicle_telemetry_history DROP CONSTRAINT vehicle_telemetry_history_bounds;
ALTER TABLE meter_telemetry_history DROP CONSTRAINT meter_telemetry_history_bounds;
