import {
  type CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type postgres from 'postgres';

import type { ReplaceablePool } from './replaceable-pool.js';
import { within } from './time-limit.js';

/**
 * Kysely over postgres.js. Plain queries go to the pool (`sql.unsafe`), so a connection
 * that dies is rotated away; only transactions reserve a connection.
 *
 * Why not kysely-postgres-js: it reserves a connection for every query, and postgres.js
 * 3.4.9 crashes the process or hangs a reserved connection whose server goes away
 * (porsager/postgres#1208), which is exactly what a database restart does. The pool is taken
 * from `pool` for every statement and reserve, since it may be replaced (ReplaceablePool).
 */
export class PostgresJsDialect implements Dialect {
  /** `queryTimeoutMs`: give up on a statement after this long (QUERY_TIMEOUT); unset: wait. */
  constructor(
    private readonly pool: ReplaceablePool,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs?: number,
    /** Named prepared statements (create-db.ts, DbConfig.prepare). */
    private readonly prepare = false,
  ) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PostgresJsDriver(this.pool, this.acquireTimeoutMs, this.queryTimeoutMs, this.prepare);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

/** Longest a pool's end waits for its connections (seconds, as postgres.js takes it). */
const END_TIMEOUT_S = 5;

class PostgresJsDriver implements Driver {
  constructor(
    private readonly pool: ReplaceablePool,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs: number | undefined,
    private readonly prepare: boolean,
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(
      new PostgresJsConnection(this.pool, this.acquireTimeoutMs, this.queryTimeoutMs, this.prepare),
    );
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const modes = [
      settings.isolationLevel ? `ISOLATION LEVEL ${settings.isolationLevel.toUpperCase()}` : '',
      settings.accessMode ? settings.accessMode.toUpperCase() : '',
    ].filter((mode) => mode !== '');
    await (connection as PostgresJsConnection).begin(['BEGIN', ...modes].join(' '));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PostgresJsConnection).finish('COMMIT');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PostgresJsConnection).finish('ROLLBACK');
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresJsConnection).release();
    return Promise.resolve();
  }

  /**
   * Ends the pool: waits for running queries, then closes. At most END_TIMEOUT_S, then the
   * connections are destroyed: postgres.js 3.4.9 can wait forever for a connection whose socket
   * was reset by the server (a terminated session) after it had served a reserved transaction,
   * and a stop must never hang on that.
   */
  async destroy(): Promise<void> {
    await this.pool.close(END_TIMEOUT_S);
  }
}

/**
 * One reserved connection, from reserve to release. postgres.js 3.4.9 gives a reserved
 * connection whose socket closed back to its pool at once (the pool's onclose moves it to the
 * closed connections, reconnected for the next query in line) while the ReservedSql still points
 * at it: a statement sent through it afterwards goes to whatever that connection does next
 * (reconnecting, or serving someone else), and its release() hands it to the pool a second time.
 * With one connection (the embedded database) that wedged the pool for good after the database
 * restarted under load: every later reserve waited forever. So the connection is watched through
 * the hook postgres.js's own sql.begin uses (`onexecute` of the first statement gives the
 * connection, whose `onclose` the pool calls once on close), and once it closed nothing more is
 * sent through the lease and it is not released.
 */
class Lease {
  /** The socket closed: the connection is back in the pool, and not ours any more. */
  closed = false;
  private unwatch: (() => void) | undefined;

  constructor(readonly reserved: postgres.ReservedSql) {}

  /** The `onexecute` option of the lease's first statement. */
  watch = (connection: PoolConnection): true => {
    if (this.unwatch === undefined) {
      const previous = connection.onclose;
      const onclose = (error: unknown) => {
        this.closed = true;
        previous?.(error);
      };
      connection.onclose = onclose;
      this.unwatch = () => {
        if (connection.onclose === onclose) connection.onclose = previous;
      };
    }
    // Falsy would make postgres.js park the connection in its "full" queue.
    return true;
  };

  /** Back to the pool, unless it already is (closed). */
  release(): void {
    this.unwatch?.();
    if (!this.closed) this.reserved.release();
  }
}

class PostgresJsConnection implements DatabaseConnection {
  private lease: Lease | undefined;
  /**
   * BEGIN was sent and no COMMIT or ROLLBACK has been answered since: the session may be
   * inside a transaction. True also when that BEGIN itself timed out (a hung server runs it
   * later), which is the case Kysely does not roll back (it rolls back only after a BEGIN that
   * succeeded).
   */
  private mayBeInTransaction = false;

  constructor(
    private readonly pool: ReplaceablePool,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs: number | undefined,
    private readonly prepare: boolean,
  ) {}

  async begin(statement: string): Promise<void> {
    const lease = new Lease(await reserveWithin(this.pool.sql, this.acquireTimeoutMs));
    this.lease = lease;
    this.mayBeInTransaction = true;
    await this.timed(lease.reserved.unsafe(statement, [], { onexecute: lease.watch } as postgres.UnsafeQueryOptions));
  }

  async finish(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      if (this.lease) {
        // The session went with its socket, and its transaction with it (the server rolls
        // back): a COMMIT did not happen.
        if (this.lease.closed) throw connectionClosed();
        await this.timed(this.lease.reserved.unsafe(command));
        this.mayBeInTransaction = false;
      }
    } finally {
      this.release();
    }
  }

  private timed<T>(query: Promise<T>): Promise<T> {
    return this.queryTimeoutMs === undefined ? query : within(query, this.queryTimeoutMs);
  }

  /**
   * Gives the connection back to the pool, but never one that may still be inside a
   * transaction: postgres.js would hand it to the next query at once, which would then run
   * (and "commit") inside a transaction nobody ends, invisible to every other session and lost
   * when the connection closes. Such a connection first gets a ROLLBACK, queued behind whatever
   * it still runs, and goes back only once the server has answered it (a ROLLBACK outside a
   * transaction is a warning, not an error); one that closed meanwhile is already back (Lease).
   * The request does not wait for that: it has its answer (a 503 when its statement timed out).
   * Meanwhile the pool has one connection less, which is what a hung server deserves.
   */
  release(): void {
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    if (!this.mayBeInTransaction || lease.closed) {
      lease.release();
      return;
    }
    this.mayBeInTransaction = false;
    lease.reserved.unsafe('ROLLBACK').then(
      () => lease.release(),
      () => lease.release(),
    );
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.lease?.closed) throw connectionClosed();
    const target = this.lease?.reserved ?? this.pool.sql;
    const result = await this.timed(
      target.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[], { prepare: this.prepare }),
    );
    const changes = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command);
    return {
      rows: [...result] as R[],
      ...(changes ? { numAffectedRows: BigInt(result.count) } : {}),
    };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not used by this service');
  }
}

/**
 * Reserving can stay pending when the server goes away while connecting: give up after
 * `ms` with a connection error (mapped to 503) and release a connection that comes late.
 */
function reserveWithin(sql: postgres.Sql, ms: number): Promise<postgres.ReservedSql> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(Object.assign(new Error(`no database connection within ${ms} ms`), { code: 'CONNECT_TIMEOUT' }));
    }, ms);
    sql.reserve().then(
      (reserved) => {
        clearTimeout(timer);
        if (timedOut) reserved.release();
        else resolve(reserved);
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The part of a postgres.js pool connection watchClose uses (the pool calls `onclose` once). */
interface PoolConnection {
  onclose?: ((error: unknown) => void) | null;
}

const connectionClosed = () =>
  Object.assign(new Error('the database connection closed during the transaction'), { code: 'CONNECTION_CLOSED' });
