import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** A raw hypertable's archive setting (archive_settings, changed by migrations only). */
export interface ArchiveSetting {
  hypertable: string;
  stream: 'meter' | 'vehicle';
  enabled: boolean;
  hotPeriodMs: number;
  runIntervalMs: number;
}

export async function readArchiveSettings(db: Db): Promise<ArchiveSetting[]> {
  const result = await sql<{
    hypertable: string;
    stream: 'meter' | 'vehicle';
    enabled: boolean;
    hot_ms: number;
    run_ms: number;
  }>`
    SELECT hypertable, stream, enabled,
           (extract(epoch FROM hot_period) * 1000)::float8 AS hot_ms,
           (extract(epoch FROM run_interval) * 1000)::float8 AS run_ms
      FROM archive_settings ORDER BY hypertable`.execute(db);
  return result.rows.map((row) => ({
    hypertable: row.hypertable,
    stream: row.stream,
    enabled: row.enabled,
    hotPeriodMs: row.hot_ms,
    runIntervalMs: row.run_ms,
  }));
}
