import { z } from 'zod';

import { readArchiveStatus } from '../archive/archive-status.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import type { ReadRouter } from '../replicas/read-router.js';
import { checkCatalog, unsupportedCatalogMessage } from '../timescaledb/timescaledb-catalog.repository.js';
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
const replicaReport = z
  .object({
    name: z.string().meta({ description: 'host:port/database of the replica' }),
    status: z.enum(['ok', 'lagging', 'unreachable']).meta({
      description:
        '`ok`: it replayed a fresh fence within `ANALYTICS_MAX_REPLICA_LAG_MS`; `lagging`: it did not (reads skip it); ' +
        '`unreachable`: it did not answer. Neither makes the service unready: the primary answers instead.',
    }),
    inRecovery: z.boolean().nullable().meta({ description: 'Whether it is a standby (null when unreachable)' }),
    lagMs: z.number().int().nullable().meta({ description: 'Fence to replay, upper bound (null unless ok)' }),
  })
  .meta({ id: 'ReplicaReadiness' });
const ready = z
  .object({
    status: z.literal('ready'),
    migrations: z.number().int(),
    replicas: z.array(replicaReport).meta({ description: 'Each read replica (empty without ANALYTICS_DATABASE_URL)' }),
    archive: archiveStatus.optional(),
  })
  .meta({ id: 'Readiness' });

export interface Readiness {
  /** Analytics and live reads: the replicas /readyz reports. */
  reads: ReadRouter;
  /** True from the moment the service starts stopping: /readyz answers 503 so a load balancer drains it. */
  stopping: () => boolean;
  /** Whether an archive bucket is configured (the archive details in /readyz say so). */
  archiveStoreConfigured: boolean;
}

/**
 * /healthz (and /health, the path many orchestrators and the seed's clients probe): the
 * process answers. /readyz: the database answers and has every migration, and the service is
 * not stopping; it lists each read replica, whose state never makes the service unready.
 */
export function registerHealthRoutes<Scope extends string>(
  api: ApiRouter<Scope>,
  db: Db,
  expectedMigrations: readonly string[],
  readiness: Readiness,
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
    summary: 'Readiness: the database answers, every migration is applied, and the service is not stopping (no key)',
    status: 200,
    response: { description: 'Ready', schema: ready },
    errors: ['not_ready'],
    handler: async () => {
      if (readiness.stopping()) throw new AppError('not_ready', 'The service is shutting down.');
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
      const catalog = await withTimeout(checkCatalog(db), READY_TIMEOUT_MS).catch(() => undefined);
      if (catalog?.status === 'unsupported') throw new AppError('not_ready', unsupportedCatalogMessage(catalog));
      let replicas;
      try {
        replicas = await withTimeout(readiness.reads.report(READY_TIMEOUT_MS / 2), READY_TIMEOUT_MS);
      } catch {
        throw new AppError('not_ready', 'The primary database did not report its WAL position.');
      }
      // Details only: a failing archive keeps chunks in the database, it does not stop the service.
      const archive = await withTimeout(
        readArchiveStatus(db, readiness.archiveStoreConfigured),
        READY_TIMEOUT_MS,
      ).catch(() => undefined);
      return { status: 'ready' as const, migrations: applied.length, replicas, ...(archive ? { archive } : {}) };
    },
  });
}
