-- Up Migration
-- Register chains across dropped data (src/telemetry/register-chain.ts).
--
-- A register reading's energy is its register minus the register of the reading before it
-- in the device's chain. Raw retention (TimescaleDB's policy, which drops chunks without
-- telling the service) or the archive job can drop that reading; a late reading landing
-- between it and the first kept one must still take its share from the kept one, which needs
-- the dropped register. So every register reading records the reading it was derived from:
-- `previous_ts` and `previous_register`, the timestamp and register of the register reading
-- just before it when its energy was last derived (both NULL for a `first`). The first kept
-- reading of a chain thus carries the dropped predecessor with it, whatever dropped the
-- chunk, with no hook on the drop. The chain writer keeps both current: a late reading
-- updates them on the reading after it, in the transaction that stores it.
ALTER TABLE meter_telemetry_history
  ADD COLUMN previous_ts timestamptz,
  ADD COLUMN previous_register numeric,
  ADD CONSTRAINT meter_telemetry_history_previous_link
    CHECK ((previous_ts IS NULL) = (previous_register IS NULL) AND (previous_ts IS NULL OR (previous_ts < ts AND kwh_register IS NOT NULL)));
ALTER TABLE vehicle_telemetry_history
  ADD COLUMN previous_ts timestamptz,
  ADD COLUMN previous_register numeric,
  ADD CONSTRAINT vehicle_telemetry_history_previous_link
    CHECK ((previous_ts IS NULL) = (previous_register IS NULL) AND (previous_ts IS NULL OR (previous_ts < ts AND kwh_register IS NOT NULL)));

-- The links of the readings stored so far, from the chains as they are (a reading whose
-- predecessor was already dropped keeps none: it is treated as before, see register-chain.ts).
-- The same pass applies the jitter rule to the stored chains: a decrease of at most 0.01 kWh
-- (10 Wh) is no reset but counts 0 kWh. Updating a row logs its invalidation like an insert,
-- so the aggregates re-read those buckets until they are refreshed.
UPDATE meter_telemetry_history h
SET previous_ts = c.previous_ts, previous_register = c.previous_register,
    kwh_consumed_ac = CASE WHEN c.jitter THEN 0 ELSE h.kwh_consumed_ac END,
    register_event = CASE WHEN c.jitter THEN NULL ELSE h.register_event END
FROM (
  SELECT meter_id, ts, previous_ts, previous_register,
         register_event = 'reset' AND previous_register - kwh_register <= 0.01 AS jitter
  FROM (
    SELECT meter_id, ts, kwh_register, register_event,
           lag(ts) OVER w AS previous_ts, lag(kwh_register) OVER w AS previous_register
    FROM meter_telemetry_history WHERE kwh_register IS NOT NULL
    WINDOW w AS (PARTITION BY meter_id ORDER BY ts)
  ) l
  WHERE previous_ts IS NOT NULL
) c
WHERE h.meter_id = c.meter_id AND h.ts = c.ts;
UPDATE vehicle_telemetry_history h
SET previous_ts = c.previous_ts, previous_register = c.previous_register,
    kwh_delivered_dc = CASE WHEN c.jitter THEN 0 ELSE h.kwh_delivered_dc END,
    register_event = CASE WHEN c.jitter THEN NULL ELSE h.register_event END
FROM (
  SELECT vehicle_id, ts, previous_ts, previous_register,
         register_event = 'reset' AND previous_register - kwh_register <= 0.01 AS jitter
  FROM (
    SELECT vehicle_id, ts, kwh_register, register_event,
           lag(ts) OVER w AS previous_ts, lag(kwh_register) OVER w AS previous_register
    FROM vehicle_telemetry_history WHERE kwh_register IS NOT NULL
    WINDOW w AS (PARTITION BY vehicle_id ORDER BY ts)
  ) l
  WHERE previous_ts IS NOT NULL
) c
WHERE h.vehicle_id = c.vehicle_id AND h.ts = c.ts;
UPDATE meter_live l SET kwh_consumed_ac = h.kwh_consumed_ac
FROM meter_telemetry_history h
WHERE h.meter_id = l.meter_id AND h.ts = l.ts AND h.kwh_register IS NOT NULL AND h.kwh_consumed_ac <> l.kwh_consumed_ac;
UPDATE vehicle_live l SET kwh_delivered_dc = h.kwh_delivered_dc
FROM vehicle_telemetry_history h
WHERE h.vehicle_id = l.vehicle_id AND h.ts = l.ts AND h.kwh_register IS NOT NULL AND h.kwh_delivered_dc <> l.kwh_delivered_dc;

-- Down Migration
-- The energies the jitter rule gave stay as they are (counted 0 instead of a reset).
ALTER TABLE vehicle_telemetry_history DROP CONSTRAINT vehicle_telemetry_history_previous_link,
  DROP COLUMN previous_register, DROP COLUMN previous_ts;
ALTER TABLE meter_telemetry_history DROP CONSTRAINT meter_telemetry_history_previous_link,
  DROP COLUMN previous_register, DROP COLUMN previous_ts;
