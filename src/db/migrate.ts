import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { runner } from 'node-pg-migrate';

import type { Logger } from '../logger.js';

/** Same folder from src/db (tsx) and dist/db (compiled). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  databaseUrl: string;
  direction?: 'up' | 'down';
  /** How many migrations to apply; all of them by default. */
  count?: number;
  logger?: Logger;
}

/** Applies the SQL migrations in `migrations/` with node-pg-migrate, each in its own transaction. */
export async function migrate(options: MigrateOptions): Promise<{ name: string }[]> {
  return runner({
    databaseUrl: options.databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: options.direction ?? 'up',
    count: options.count ?? Infinity,
    checkOrder: true,
    log: (msg: string) => options.logger?.debug(msg),
  });
}

/** The migrations shipped with this build, by name: /readyz compares them with the database. */
export async function listMigrationNames(): Promise<string[]> {
  const files = await readdir(MIGRATIONS_DIR);
  return files
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}
