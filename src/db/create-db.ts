import { Kysely } from 'kysely';
import postgres from 'postgres';

import type { Logger } from '../logger.js';
import type { Db } from './database.js';
import { PostgresJsDialect } from './postgres-js-dialect.js';

export interface DbConfig {
  url: string;
  /** Connections in the pool; the embedded database takes exactly one. */
  max: number;
  logger: Logger;
  /** Called for every failed query (metrics). */
  onQueryError?: () => void;
}

export interface DbHandle {
  db: Db;
  close(): Promise<void>;
}

/** Longest wait for a connection for a transaction before giving up with a 503. */
const ACQUIRE_TIMEOUT_MS = 5_000;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * postgres.js + Kysely with explicit type parsers: counts (int8) and numerics become
 * numbers (every count here is far below 2^53), timestamps are Dates, the session runs in
 * UTC, notices go to the debug log and failed queries to the error log.
 */
export function createDb(config: DbConfig): DbHandle {
  const sql = postgres(config.url, {
    max: config.max,
    connect_timeout: 10,
    idle_timeout: 0,
    onnotice: (notice) => config.logger.debug('database notice', { notice: notice.message }),
    connection: { TimeZone: 'UTC', application_name: 'ev-telemetry', client_min_messages: 'warning' },
    types: {
      int8: { to: INT8_OID, from: [INT8_OID], serialize: (value: number) => String(value), parse: Number },
      numeric: { to: NUMERIC_OID, from: [NUMERIC_OID], serialize: (value: number) => String(value), parse: Number },
    },
  });
  const db: Db = new Kysely({
    dialect: new PostgresJsDialect(sql, ACQUIRE_TIMEOUT_MS),
    log(event) {
      if (event.level === 'error') {
        config.onQueryError?.();
        config.logger.error('query failed', {
          sql: event.query.sql,
          durationMs: Math.round(event.queryDurationMillis),
          err: event.error,
        });
      }
    },
  });
  return {
    db,
    close: async () => {
      await db.destroy();
    },
  };
}
