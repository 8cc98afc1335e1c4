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
  constructor(
    private readonly sql: postgres.Sql,
    private readonly acquireTimeoutMs: number,
  ) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PostgresJsDriver(this.sql, this.acquireTimeoutMs);
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
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new PostgresJsConnection(this.sql, this.acquireTimeoutMs));
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PostgresJsConnection).begin();
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
  ) {}

  async begin(): Promise<void> {
    this.reserved = await reserveWithin(this.sql, this.acquireTimeoutMs);
    await this.reserved.unsafe('BEGIN');
  }

  async finish(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await this.reserved?.unsafe(command);
    } finally {
      this.release();
    }
  }

  release(): void {
    this.reserved?.release();
    this.reserved = undefined;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const target = this.reserved ?? this.sql;
    const result = await target.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[]);
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
