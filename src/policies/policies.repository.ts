import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/**
 * A retention or refresh policy of this schema, as TimescaleDB's job catalog holds it, or the
 * archive mode of a raw hypertable (archive_settings: the archive job drops chunks older than
 * the hot period once they are archived, in place of a retention policy).
 */
export interface PolicyRow {
  kind: 'retention' | 'refresh' | 'archive';
  /** The hypertable or continuous aggregate it applies to. */
  relation: string;
  /**
   * Retention: drop chunks older than this. Archive: the hot period (the same, after archiving).
   * Refresh: the window starts this far back (null: unbounded).
   */
  offsetMs: number | null;
  scheduled: boolean;
}

/** The retention and refresh policies on this schema's hypertables and aggregates, and archive modes. */
export async function readPolicies(db: Db): Promise<PolicyRow[]> {
  const result = await sql<{ proc: string; relation: string; offset_ms: number | null; scheduled: boolean }>`
    SELECT j.proc_name AS proc, j.hypertable_name AS relation, j.scheduled,
           extract(epoch FROM (coalesce(j.config->>'drop_after', j.config->>'start_offset'))::interval)::float8 * 1000
             AS offset_ms
    FROM timescaledb_information.jobs j
    WHERE j.hypertable_schema = current_schema()
      AND j.proc_name IN ('policy_retention', 'policy_refresh_continuous_aggregate')
    UNION ALL
    SELECT 'archive', a.hypertable, true, extract(epoch FROM a.hot_period)::float8 * 1000
    FROM archive_settings a
    WHERE a.enabled`.execute(db);
  const kinds: Record<string, PolicyRow['kind']> = { policy_retention: 'retention', archive: 'archive' };
  return result.rows.map((row) => ({
    kind: kinds[row.proc] ?? 'refresh',
    relation: row.relation,
    offsetMs: row.offset_ms,
    scheduled: row.scheduled,
  }));
}
