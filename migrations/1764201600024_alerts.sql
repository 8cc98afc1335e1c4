-- Up Migration
-- Alert rules and alert state (issue 22, src/alerts/, docs/alerts.md). Rules live here so an
-- operator (the admin API) or a DBA changes them without a deploy; the evaluator reads them on
-- every run. Durations are ISO 8601 text (`PT24H`) as the API takes and shows them; the service
-- parses them (src/alerts/iso-duration.ts), the CHECK only keeps obvious garbage out.
CREATE TABLE alert_rules (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN
    ('efficiency_below', 'battery_temperature_above', 'device_silent', 'register_event', 'dead_letter')),
  -- efficiency_below: the DC/AC ratio; battery_temperature_above: degrees Celsius.
  threshold double precision,
  -- battery_temperature_above: the window's average or its peak.
  aggregate text CHECK (aggregate IN ('avg', 'max')),
  window_duration text CHECK (window_duration ~ '^P'),
  for_duration text NOT NULL DEFAULT 'PT0S' CHECK (for_duration ~ '^P'),
  -- device_silent: no reading received for longer than this.
  silent_minutes integer CHECK (silent_minutes > 0),
  severity text NOT NULL DEFAULT 'warning' CHECK (severity IN ('warning', 'critical')),
  -- NULL: the whole fleet; else only these device ids.
  devices text[],
  enabled boolean NOT NULL DEFAULT true,
  -- The end of the last evaluation: a second instance skips a rule evaluated a moment ago.
  evaluated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A deleted rule is kept (its alerts' history refers to it) but no longer evaluated or listed.
  deleted_at timestamptz
);

-- One alert per rule and subject (a vehicle, a meter or a stream) while it is open; a resolved
-- alert stays as history and a later episode opens a new one.
CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id bigint NOT NULL REFERENCES alert_rules,
  subject_kind text NOT NULL CHECK (subject_kind IN ('vehicle', 'meter', 'stream')),
  device_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
  -- Since when the condition holds (pending since).
  started_at timestamptz NOT NULL,
  fired_at timestamptz,
  resolved_at timestamptz,
  -- Why it resolved: condition_cleared, rule_disabled or rule_deleted.
  resolved_reason text,
  -- The figures of the latest evaluation (those of GET /v1/analytics/performance for efficiency).
  figures jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
  CHECK (state <> 'firing' OR fired_at IS NOT NULL)
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, subject_kind, device_id)
  WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_by_state ON alerts (state, id DESC);
CREATE INDEX alerts_by_device ON alerts (device_id, id DESC);

-- Each evaluation of an open alert (bounded: the evaluator keeps the latest ones per alert).
CREATE TABLE alert_evaluations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
  evaluated_at timestamptz NOT NULL,
  condition_holds boolean NOT NULL,
  value double precision,
  figures jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_evaluations_by_alert ON alert_evaluations (alert_id, evaluated_at DESC, id DESC);

-- The rule of the original design: efficiency below 0.85 over 24 hours, for 15 minutes.
INSERT INTO alert_rules (kind, threshold, window_duration, for_duration)
VALUES ('efficiency_below', 0.85, 'PT24H', 'PT15M');

-- Down Migration
DROP TABLE alert_evaluations;
DROP TABLE alerts;
DROP TABLE alert_rules;
