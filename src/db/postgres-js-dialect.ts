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

/**
 * Kysely over postgres.js. Plain queries go to the pool (`sql.unsafe`), so a connection
 * that dies is rotated away; only transactions reserve a connection.
 *
 * Why not kysely-postgres-js: it reserves a connection for every query, and postgres.js
 * 3.4.9 crashes the process or hangs a reserved connection whose server goes away
 * (porsager/postgres#1208), which is exactly what a database restart does.
 */
export class PostgresJsDialect implements Dialect {
  /** `queryTimeoutMs`: give up on a statement after this long (QUERY_TIMEOUT); unset: wait. */
  constructor(
    private readonly sql: postgres.Sql,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs?: number,
  ) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PostgresJsDriver(this.sql, this.acquireTimeoutMs, this.queryTimeoutMs);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PostgresJsDriver implements Driver {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs: number | undefined,
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new PostgresJsConnection(this.sql, this.acquireTimeoutMs, this.queryTimeoutMs));
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

  async destroy(): Promise<void> {
    await this.sql.end();
  }
}

class PostgresJsConnection implements DatabaseConnection {
  private reserved: postgres.ReservedSql | undefined;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly acquireTimeoutMs: number,
    private readonly queryTimeoutMs: number | undefined,
  ) {}

  async begin(statement: string): Promise<void> {
    this.reserved = await reserveWithin(this.sql, this.acquireTimeoutMs);
    await this.timed(this.reserved.unsafe(statement));
  }

  async finish(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      if (this.reserved) await this.timed(this.reserved.unsafe(command));
    } finally {
      this.release();
    }
  }

  private timed<T>(query: Promise<T>): Promise<T> {
    return this.queryTimeoutMs === undefined ? query : within(query, this.queryTimeoutMs);
  }

  release(): void {
    this.reserved?.release();
    this.reserved = undefined;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const target = this.reserved ?? this.sql;
    const result = await this.timed(
      target.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[]),
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
 * Waits at most `ms` for a query, then fails with QUERY_TIMEOUT (a 503). The server-side
 * statement_timeout normally fires first and cancels the statement; this is for a server
 * that hangs or ignores it (the embedded one), where a cancel request could not get through
 * either: the query's late outcome is dropped.
 */
function within<T>(query: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      query.catch(() => undefined);
      reject(Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: 'QUERY_TIMEOUT' }));
    }, ms);
    query.then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
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
