-- Up Migration
-- The webhook outbox (issue 22): every event a webhook may be told about is written here in the
-- same transaction as the state change that caused it (an alert firing or resolving), so a crash
-- between the change and the delivery loses nothing. Deliveries to the registered webhooks are
-- made from these rows (src/webhooks/). `id` is the Standard Webhooks `webhook-id`, stable across
-- retries so receivers can deduplicate; `ordering_key` (the alert) orders deliveries per alert.
CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  ordering_key text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_ordering ON webhook_events (ordering_key, created_at, id);

-- Down Migration
DROP TABLE webhook_events;
