import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** A retention or refresh policy of this schema, as TimescaleDB's job catalog holds it. */
export interface PolicyRow {
  kind: 'retention' | 'refresh';
  /** The hypertable or continuous aggregate it applies to. */
  relation: string;
  /** Retention: drop chunks older than this. Refresh: the window starts this far back (null: unbounded). */
  offsetMs: number | null;
  scheduled: boolean;
}

/** The retention and refresh policies on this schema's hypertables and aggregates. */
export async function readPolicies(db: Db): Promise<PolicyRow[]> {
  const result = await sql<{ proc: string; relation: string; offset_ms: number | null; scheduled: boolean }>`
    SELECT j.proc_name AS proc, j.hypertable_name AS relation, j.scheduled,
           extract(epoch FROM (coalesce(j.config->>'drop_after', j.config->>'start_offset'))::interval)::float8 * 1000
             AS offset_ms
    FROM timescaledb_information.jobs j
    WHERE j.hypertable_schema = current_schema()
      AND j.proc_name IN ('policy_retention', 'policy_refresh_continuous_aggregate')`.execute(db);
  return result.rows.map((row) => ({
    kind: row.proc === 'policy_retention' ? 'retention' : 'refresh',
    relation: row.relation,
    offsetMs: row.offset_ms,
    scheduled: row.scheduled,
  }));
}
