import type Router from '@koa/router';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { AppState } from '../http/app-state.js';
import type { AppContext } from '../http/validate.js';
import { listAppliedMigrations } from './health.repository.js';

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** /healthz: the process answers. /readyz: the database answers and has every migration. */
export function registerHealthRoutes(
  router: Router<AppState, AppContext>,
  db: Db,
  expectedMigrations: readonly string[],
): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    let applied: string[];
    try {
      applied = await withTimeout(listAppliedMigrations(db), READY_TIMEOUT_MS);
    } catch {
      throw new AppError(503, 'not_ready', 'The database is not reachable or not migrated.');
    }
    const missing = expectedMigrations.filter((name) => !applied.includes(name));
    if (missing.length > 0) {
      throw new AppError(503, 'not_ready', `Migrations not applied: ${missing.join(', ')}.`);
    }
    ctx.body = { status: 'ready', migrations: applied.length };
  });
}
