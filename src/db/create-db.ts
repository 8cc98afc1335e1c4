import { Kysely, type LogEvent } from 'kysely';
import postgres from 'postgres';

import type { Logger } from '../logger.js';
import { END_OF_TIME, START_OF_TIME } from '../time.js';
import type { Db } from './database.js';
import { pgInstant } from './instants.js';
import { PostgresJsDialect } from './postgres-js-dialect.js';
import { ReplaceablePool, type SocketFactory } from './replaceable-pool.js';

export interface DbConfig {
  url: string;
  /** Connections in the pool; the embedded database takes exactly one. */
  max: number;
  /** Server-side statement_timeout; the client gives up QUERY_TIMEOUT_GRACE_MS later. */
  statementTimeoutMs: number;
  /** Server-side lock_timeout. */
  lockTimeoutMs: number;
  /**
   * Run statements as named prepared statements (default: no). Unprepared, postgres.js sends
   * every statement with parameters as two round trips (describe, then execute) and the server
   * parses and plans it every time: the bookkeeping statement of the analytics took 4-5 ms of
   * planning on a server, 1 ms prepared. Each connection caches the statements it ran until it
   * is recycled. Off for the embedded database (one session behind every connection) and behind
   * a pooler in transaction mode (DATABASE_PREPARE=false).
   */
  prepare?: boolean;
  /**
   * Open the pool's sockets here (one TCP host, no TLS: the embedded database), so that
   * replacePool can destroy them (ReplaceablePool).
   */
  ownSockets?: boolean;
  logger: Logger;
  /** Called for every failed query (metrics). */
  onQueryError?: () => void;
}

export interface DbHandle {
  /** For requests: every query ends within the statement timeout (plus grace), or fails. */
  db: Db;
  /**
   * The same pool without the client-side time limit, for the embedded job scheduler, whose
   * refreshes may legitimately run for minutes (the embedded server has no statement_timeout).
   */
  maintenanceDb: Db;
  /**
   * Swaps the pool for a fresh one (ReplaceablePool): for a server that was restarted, whose
   * old connections postgres.js may have stranded.
   */
  replacePool(reason: string): void;
  close(): Promise<void>;
}

/**
 * The client stops waiting this long after the server should have cancelled a statement:
 * a hung database (or one that ignores statement_timeout, as the embedded one does) is
 * answered with a 503 instead of a request that never ends.
 */
export const QUERY_TIMEOUT_GRACE_MS = 2_000;

/**
 * Longest wait for a connection for a transaction (analytics reads, assignment changes)
 * before giving up with a 503: as long as a statement may run, since on the embedded
 * database (one connection) the wait is for the statements ahead in line.
 */
const acquireTimeoutMs = (config: DbConfig) => config.statementTimeoutMs;
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const DATE_OID = 1082;
const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;

/**
 * postgres.js + Kysely with explicit type parsers: counts (int8) and numerics become
 * numbers (every count here is far below 2^53), timestamps are Dates (±infinity the
 * END_OF_TIME / START_OF_TIME sentinels), the session runs in
 * UTC, notices go to the debug log and failed queries to the error log.
 */
export function createDb(config: DbConfig): DbHandle {
  const connect = (socket: SocketFactory) =>
    postgres(config.url, {
      max: config.max,
      // Not in postgres.js's types, documented in its README ("Custom socket").
      ...((config.ownSockets ? { socket } : {}) as object),
      connect_timeout: 10,
      idle_timeout: 0,
      onnotice: (notice) => config.logger.debug('database notice', { notice: notice.message }),
      connection: {
        TimeZone: 'UTC',
        application_name: 'ev-telemetry',
        client_min_messages: 'warning',
        statement_timeout: config.statementTimeoutMs,
        lock_timeout: config.lockTimeoutMs,
      },
      types: {
        int8: { to: INT8_OID, from: [INT8_OID], serialize: (value: number) => String(value), parse: Number },
        numeric: { to: NUMERIC_OID, from: [NUMERIC_OID], serialize: (value: number) => String(value), parse: Number },
        // Open-ended assignments end at 'infinity' (and migrated ones start at '-infinity').
        date: {
          to: TIMESTAMPTZ_OID,
          from: [DATE_OID, TIMESTAMP_OID, TIMESTAMPTZ_OID],
          // Strings (instants in unnest arrays, see instants.ts) go as they are.
          serialize: (value: Date | string) => (typeof value === 'string' ? value : pgInstant(value)),
          parse: (text: string) =>
            text === 'infinity' ? END_OF_TIME : text === '-infinity' ? START_OF_TIME : new Date(text),
        },
      },
    });
  const pool = new ReplaceablePool(connect, (reason) => config.logger.warn('database pool replaced', { reason }));
  const log = (event: LogEvent) => {
    if (event.level === 'error') {
      config.onQueryError?.();
      config.logger.error('query failed', {
        sql: event.query.sql,
        durationMs: Math.round(event.queryDurationMillis),
        err: event.error,
      });
    }
  };
  const queryTimeoutMs = config.statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS;
  const db: Db = new Kysely({
    dialect: new PostgresJsDialect(pool, acquireTimeoutMs(config), queryTimeoutMs, config.prepare ?? false),
    log,
  });
  const maintenanceDb: Db = new Kysely({
    dialect: new PostgresJsDialect(pool, acquireTimeoutMs(config), undefined, config.prepare ?? false),
    log,
  });
  return {
    db,
    maintenanceDb,
    replacePool: (reason) => pool.replace(reason),
    // Both share one pool: ending it once ends both.
    close: async () => {
      await db.destroy();
    },
  };
}
