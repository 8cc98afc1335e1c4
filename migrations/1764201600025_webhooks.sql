-- Up Migration
-- Webhook subscriptions and their deliveries (issue 22, docs/webhooks.md). The secret is kept as
-- given (`whsec_<base64>`): it is a shared HMAC key the service must sign with, so it cannot be
-- hashed like an API key. A deleted webhook keeps its row (its delivery log stays readable by id
-- in the database) but gets no new deliveries and its pending ones are cancelled.
CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  secret text NOT NULL,
  events text[] NOT NULL CHECK (cardinality(events) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

-- One row per webhook x event. `attempts` is incremented by every claim and doubles as the
-- claim's fencing token: an outcome is recorded only by the worker whose claim it is (a worker
-- whose lease expired and was re-claimed changes nothing). `retry_from` starts the bounded
-- retry period (WEBHOOK_MAX_AGE_MS); a manual redeliver restarts it.
CREATE TABLE webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id uuid NOT NULL REFERENCES webhooks (id),
  event_id text NOT NULL REFERENCES webhook_events (id),
  ordering_key text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  last_status_code integer,
  last_error text,
  retry_from timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (webhook_id, event_id)
);
-- What the worker claims: the open deliveries by due time (a small partial index: done rows leave it).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
  WHERE status IN ('pending', 'delivering');
-- The ordering check: an older open delivery of the same webhook and key holds the newer ones back.
CREATE INDEX webhook_deliveries_open_by_key ON webhook_deliveries (webhook_id, ordering_key, id)
  WHERE status IN ('pending', 'delivering');
-- The delivery log, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id DESC);

-- Fan-out in the transaction that writes the event: a committed event has its deliveries, and an
-- event nobody subscribes to gets none. 'webhook.test' events are addressed to one webhook by the
-- /test route, which writes their delivery itself.
CREATE FUNCTION webhook_events_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.type <> 'webhook.test' THEN
    INSERT INTO webhook_deliveries (webhook_id, event_id, ordering_key)
    SELECT w.id, NEW.id, NEW.ordering_key FROM webhooks w
    WHERE w.deleted_at IS NULL AND NEW.type = ANY (w.events)
    ORDER BY w.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER webhook_events_fan_out AFTER INSERT ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION webhook_events_fan_out();

-- Down Migration
DROP TRIGGER webhook_events_fan_out ON webhook_events;
DROP FUNCTION webhook_events_fan_out();
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
