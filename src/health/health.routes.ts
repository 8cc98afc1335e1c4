import { z } from 'zod';

import { readArchiveStatus } from '../archive/archive-status.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { listAppliedMigrations } from './health.repository.js';

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const healthy = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const archiveStatus = z
  .object({
    archivedStreams: z.array(z.string()).meta({ description: 'Streams archived to object storage before retention.' }),
    failingChunks: z
      .number()
      .int()
      .meta({ description: 'Chunks whose last archive attempt failed (kept in the database).' }),
    chunks: z.array(
      z.object({ stream: z.string(), key: z.string(), failures: z.number().int(), lastError: z.string().nullable() }),
    ),
    problems: z.array(z.string()),
  })
  .meta({
    id: 'ArchiveStatus',
    description: 'The raw-history archive (docs/archive.md); informs, never makes the service unready.',
  });
const ready = z
  .object({ status: z.literal('ready'), migrations: z.number().int(), archive: archiveStatus.optional() })
  .meta({ id: 'Readiness' });

/**
 * /healthz (and /health, the path many orchestrators and the seed's clients probe): the
 * process answers. /readyz: the database answers and has every migration.
 */
export function registerHealthRoutes<Scope extends string>(
  api: ApiRouter<Scope>,
  db: Db,
  expectedMigrations: readonly string[],
  archiveStoreConfigured = false,
): void {
  for (const [path, operationId] of [
    ['/healthz', 'getHealth'],
    ['/health', 'getHealthAlias'],
  ] as const) {
    api.add({
      method: 'get',
      path,
      operationId,
      tag: 'Operations',
      summary: path === '/health' ? 'Liveness, as /healthz (no key)' : 'Liveness: the process answers (no key)',
      status: 200,
      response: { description: 'Alive', schema: healthy },
      handler: () => ({ status: 'ok' as const }),
    });
  }

  api.add({
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    tag: 'Operations',
    summary: 'Readiness: the database answers and every migration is applied (no key)',
    status: 200,
    response: { description: 'Ready', schema: ready },
    errors: ['not_ready'],
    handler: async () => {
      let applied: string[];
      try {
        applied = await withTimeout(listAppliedMigrations(db), READY_TIMEOUT_MS);
      } catch {
        throw new AppError('not_ready', 'The database is not reachable or not migrated.');
      }
      const missing = expectedMigrations.filter((name) => !applied.includes(name));
      if (missing.length > 0) {
        throw new AppError('not_ready', `Migrations not applied: ${missing.join(', ')}.`);
      }
      // Details only: a failing archive keeps chunks in the database, it does not stop the service.
      const archive = await withTimeout(readArchiveStatus(db, archiveStoreConfigured), READY_TIMEOUT_MS).catch(
        () => undefined,
      );
      return { status: 'ready' as const, migrations: applied.length, ...(archive ? { archive } : {}) };
    },
  });
}
