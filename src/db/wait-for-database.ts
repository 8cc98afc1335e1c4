import { sql } from 'kysely';

import type { Db } from './database.js';

/**
 * Waits until the database answers a query. The embedded server takes one client at a
 * time and frees its slot only after the previous client's socket is fully closed; a
 * server in docker-compose may still be starting.
 */
export async function waitForDatabase(db: Db, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await sql`SELECT 1`.execute(db);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, Math.min(50 * 2 ** attempt, 1000)));
    }
  }
}
