-- Up Migration
-- Vehicle-to-meter assignments over time. A vehicle moves between chargers (each with its own
-- meter): each assignment holds for [valid_from, valid_to), the current one open-ended
-- (valid_to = 'infinity'). The database itself keeps the two rules the analytics rely on:
-- one meter serves at most one vehicle at any instant, and one vehicle draws from at most one
-- meter at any instant (exclusion constraints; btree_gist gives text equality in a GiST index).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE vehicle_meter_assignment (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  vehicle_id text        NOT NULL,
  meter_id   text        NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to   timestamptz NOT NULL DEFAULT 'infinity',
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT vehicle_meter_assignment_valid CHECK (valid_from < valid_to),
  CONSTRAINT one_meter_per_vehicle_at_a_time
    EXCLUDE USING gist (vehicle_id WITH =, tstzrange(valid_from, valid_to) WITH &&),
  CONSTRAINT one_vehicle_per_meter_at_a_time
    EXCLUDE USING gist (meter_id WITH =, tstzrange(valid_from, valid_to) WITH &&)
);

-- Who changed which assignment when, and from what to what: every write of the API is here.
CREATE TABLE vehicle_meter_assignment_audit (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor         text        NOT NULL,
  action        text        NOT NULL CHECK (action IN ('assign', 'close', 'correct', 'delete', 'migrate')),
  assignment_id bigint      NOT NULL,
  vehicle_id    text        NOT NULL,
  meter_id      text        NOT NULL,
  old_from      timestamptz,
  old_to        timestamptz,
  new_from      timestamptz,
  new_to        timestamptz
);
CREATE INDEX vehicle_meter_assignment_audit_vehicle_idx ON vehicle_meter_assignment_audit (vehicle_id, at);

-- Existing mappings become assignments that hold since the beginning, which is what the
-- analytics assumed until now. A meter mapped to several vehicles (possible before) goes to
-- them in turn by updated_at: each one holds it until the next one was mapped to it (ties
-- broken by vehicle id; a vehicle whose turn would be empty keeps no assignment).
INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from, valid_to)
SELECT vehicle_id, meter_id, valid_from, valid_to
FROM (
  SELECT vehicle_id, meter_id,
         CASE WHEN lag(updated_at) OVER w IS NULL THEN '-infinity'::timestamptz ELSE updated_at END AS valid_from,
         coalesce(lead(updated_at) OVER w, 'infinity'::timestamptz) AS valid_to
  FROM vehicle_meter_mapping
  WINDOW w AS (PARTITION BY meter_id ORDER BY updated_at, vehicle_id)
) turns
WHERE valid_from < valid_to;

INSERT INTO vehicle_meter_assignment_audit (actor, action, assignment_id, vehicle_id, meter_id, new_from, new_to)
SELECT 'migration', 'migrate', id, vehicle_id, meter_id, valid_from, valid_to FROM vehicle_meter_assignment;

-- The old table's name stays, as a view of the assignments in force now (raw-SQL readers,
-- Grafana's vehicle list).
DROP TABLE vehicle_meter_mapping;
CREATE VIEW vehicle_meter_mapping AS
SELECT vehicle_id, meter_id, valid_from AS updated_at
FROM vehicle_meter_assignment
WHERE valid_from <= now() AND valid_to > now();

-- Down Migration
DROP VIEW vehicle_meter_mapping;
CREATE TABLE vehicle_meter_mapping (
  vehicle_id text PRIMARY KEY,
  meter_id   text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_meter_mapping_meter_id_idx ON vehicle_meter_mapping (meter_id);
-- The assignment in force now, or else the latest one, of each vehicle.
INSERT INTO vehicle_meter_mapping (vehicle_id, meter_id, updated_at)
SELECT DISTINCT ON (vehicle_id) vehicle_id, meter_id,
       CASE WHEN valid_from = '-infinity' THEN now() ELSE valid_from END
FROM vehicle_meter_assignment
WHERE valid_from <= now()
ORDER BY vehicle_id, valid_to DESC, valid_from DESC;
DROP TABLE vehicle_meter_assignment_audit;
DROP TABLE vehicle_meter_assignment;
