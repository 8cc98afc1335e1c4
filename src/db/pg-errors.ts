/**
 * What a failed database call means, in one place: every caller that retries, falls back or
 * answers 503 asks here, so a code added once (a new server state, a new client error) counts
 * everywhere. Codes are PostgreSQL SQLSTATEs (Appendix A) or postgres.js / socket error codes.
 */

const codeOf = (error: unknown): unknown =>
  typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;

const messageOf = (error: unknown): string => {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : '';
};

/**
 * The database is not there right now, or did not answer in time: a retry later can succeed,
 * so the answer is a 503 with Retry-After, never a 500.
 */
const UNAVAILABLE = new Set([
  // The client's own limits (postgres-js-dialect.ts) and postgres.js's connection states.
  'QUERY_TIMEOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  // TimescaleDB's catalog changed under the running service (src/timescaledb/, readCatalog).
  'CATALOG_MISMATCH',
  // Sockets.
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // The server.
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '57P01', // admin_shutdown: the server is stopping (smart or fast stop), or the session was terminated
  '57P02', // crash_shutdown: another backend crashed, every session is ended
  '57P03', // cannot_connect_now: the server is starting up, shutting down or in recovery
  '53300', // too_many_connections
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
]);

/** The database is away or too slow for now (see UNAVAILABLE): answer 503, retry later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  return typeof code === 'string' && UNAVAILABLE.has(code);
}

/**
 * Two transactions waited for each other (40P01) or a serializable read lost (40001): nothing
 * was written, and the same work run again normally succeeds. Writers take their locks in one
 * global order (device key), so on this service this is rare; it is still a retryable 503.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40P01' || code === '40001';
}

/**
 * PostgreSQL cancels a standby's query that holds back replay (a vacuum, a dropped chunk of a
 * retention or compression job): SQLSTATE 40001 (serialization_failure), "canceling statement
 * due to conflict with recovery", or for a session idle in its transaction "terminating
 * connection due to conflict with recovery" (40001, or 57P04 when the database was dropped;
 * postgres.c, ProcessRecoveryConflictInterrupt). 40P01 with the same message is accepted too.
 * The same query on the primary has no such conflict.
 */
export function isRecoveryConflict(error: unknown): boolean {
  const code = codeOf(error);
  if (code === '57P04') return true;
  return (code === '40001' || code === '40P01') && /conflict with recovery/i.test(messageOf(error));
}

/** PostgreSQL's exclusion_violation: a concurrent change collided with a constraint at commit time. */
export function isExclusionViolation(error: unknown): boolean {
  return codeOf(error) === '23P01';
}
