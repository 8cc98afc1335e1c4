import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { MIGRATIONS_TABLE } from '../db/migrate.js';

/** Names of the migrations applied to the database (the table node-pg-migrate keeps). */
export async function listAppliedMigrations(db: Db): Promise<string[]> {
  const result = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(MIGRATIONS_TABLE)} ORDER BY run_on, id`.execute(db);
  return result.rows.map((row) => row.name);
}
