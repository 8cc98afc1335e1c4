import { randomBytes } from 'node:crypto';

import postgres from 'postgres';

import { migrate } from '../../src/db/migrate.js';
import { connectDirect, openDirect, type DirectDb } from '../../tools/harness/direct-db.js';
import type { TempDirs } from '../../tools/harness/temp-dirs.js';

/** One database of a run: what a spawned service needs to use it, and the bench's own client of it. */
export interface BenchDatabase {
  /** Environment for spawnService: DATA_DIR (embedded) or DATABASE_URL and DATABASE_POOL_MAX (server). */
  env: Record<string, string>;
  /** The bench's own client (embedded: starts the database on its directory; stop it before a service uses it). */
  open(): Promise<DirectDb>;
}

/** Where a run's databases live: embedded ones in temporary directories (default), or on a server. */
export interface DatabaseTarget {
  kind: 'embedded' | 'server';
  /** Connections per service (DATABASE_POOL_MAX); the embedded database always takes one. */
  poolMax: number;
  make(label: string): Promise<BenchDatabase>;
  /** Drops whatever the run created (server databases). */
  cleanUp(): Promise<void>;
}

export function embeddedTarget(tempDirs: TempDirs): DatabaseTarget {
  return {
    kind: 'embedded',
    poolMax: 1,
    make: async (label) => {
      const dataDir = await tempDirs.make(label);
      return { env: { DATA_DIR: dataDir }, open: () => openDirect(dataDir) };
    },
    cleanUp: () => Promise.resolve(),
  };
}

/**
 * A TimescaleDB server: each section's data in its own new database on it (created and
 * migrated here, dropped at the end of the run), so runs never see each other's data and the
 * server's own background workers run the policies, as in production. The role needs CREATEDB.
 */
export function serverTarget(url: string, poolMax: number): DatabaseTarget {
  const created: string[] = [];
  const admin = () => postgres(url, { max: 1, onnotice: () => undefined });
  const urlOf = (name: string) => {
    const parsed = new URL(url);
    parsed.pathname = `/${name}`;
    return parsed.toString();
  };
  return {
    kind: 'server',
    poolMax,
    make: async (label) => {
      const name = `ev_bench_${label.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(3).toString('hex')}`.toLowerCase();
      const sql = admin();
      try {
        await sql.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await sql.end();
      }
      created.push(name);
      await migrate({ databaseUrl: urlOf(name) });
      return {
        env: { DATABASE_URL: urlOf(name), DATABASE_POOL_MAX: String(poolMax) },
        // Prepared statements, as a service on a server runs them (DATABASE_PREPARE's default).
        open: () => connectDirect(urlOf(name), true),
      };
    },
    cleanUp: async () => {
      const sql = admin();
      try {
        for (const name of created) await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
