/** Durations in milliseconds: the one home of time constants (JavaScript time is in ms). */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const QUARTER_HOUR_MS = 15 * MINUTE_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** A half-open interval [from, to) in epoch milliseconds. */
export interface Interval {
  from: number;
  to: number;
}

/**
 * PostgreSQL's 'infinity' and '-infinity' timestamps as JavaScript Dates (the largest and
 * smallest a Date holds); the database client maps them both ways.
 */
export const END_OF_TIME = new Date(8.64e15);
export const START_OF_TIME = new Date(-8.64e15);

/** Webhook delivery (src/webhooks, docs/webhooks.md): what a slow or failing receiver may cost. */
export const WEBHOOK_TIMEOUT_MS = 10 * SECOND_MS;
/** How long a delivery is retried before it is marked failed. */
export const WEBHOOK_MAX_AGE_MS = DAY_MS;
/** The first retry's delay (doubled each attempt, with jitter) and the longest one. */
export const WEBHOOK_RETRY_BASE_MS = 5 * SECOND_MS;
export const WEBHOOK_RETRY_MAX_MS = HOUR_MS;
/** How often the delivery worker looks for due deliveries. */
export const WEBHOOK_POLL_INTERVAL_MS = SECOND_MS;
/** A claim outlives the request's timeout by this much, then another instance may take it over. */
export const WEBHOOK_LEASE_MARGIN_MS = 30 * SECOND_MS;
/** Delivered and failed deliveries, and events left without deliveries, are kept this long. */
export const WEBHOOK_RETENTION_DAYS = 30;
/** How often an instance prunes the outbox (each prune is a few bounded deletes). */
export const WEBHOOK_PRUNE_INTERVAL_MS = HOUR_MS;
