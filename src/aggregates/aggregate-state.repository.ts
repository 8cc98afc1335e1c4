import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { Interval } from '../time.js';

/**
 * TimescaleDB's own bookkeeping of one continuous aggregate, as far as it matters for a
 * window (all times in epoch ms). See aggregate-freshness.ts for how it is read.
 */
export interface AggregateStateRow {
  view: string;
  /** End of the materialized part (-Infinity when nothing is materialized). */
  watermarkMs: number;
  /** The raw hypertable's invalidation threshold: changes above it are not logged. */
  thresholdMs: number;
  /** Start of the raw hypertable's oldest chunk; null when it has no chunk at all. */
  rawFromMs: number | null;
  /** The raw hypertable's retention policy (drop_after, from the job catalog); null without one. */
  rawRetentionMs: number | null;
  /** Invalidated ranges (both logs) overlapping the window, clipped to it, half-open. */
  stale: Interval[];
}

interface Row {
  view: string;
  watermark_ms: number | null;
  threshold_ms: number | null;
  raw_from_ms: number | null;
  raw_retention_ms: number | null;
  stale: [number, number][];
}

/**
 * Reads, in ONE statement (one snapshot), for every continuous aggregate of the schema:
 * its watermark, the invalidation threshold of its raw hypertable, the start of the raw
 * hypertable's oldest chunk, its retention policy and the invalidations that overlap
 * [window.from, window.to):
 * the aggregate's own materialization log and the raw hypertable's log (changes not yet
 * moved to the aggregates' logs by a refresh). These catalog tables are TimescaleDB's
 * internal but stable API of 2.x (readable by PUBLIC); times there are microseconds since
 * the Unix epoch, and invalidation bounds are inclusive.
 */
export async function readAggregateStates(db: Db, window: Interval): Promise<AggregateStateRow[]> {
  const fromUs = String(window.from * 1000);
  const toUs = String(window.to * 1000);
  const result = await sql<Row>`
    WITH cagg AS MATERIALIZED (
      SELECT ca.user_view_name AS view, ca.mat_hypertable_id AS mat_id, ca.raw_hypertable_id AS raw_id,
             _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS watermark
      FROM _timescaledb_catalog.continuous_agg ca
      WHERE ca.user_view_schema = current_schema()
    ), raw AS MATERIALIZED (
      -- Once per raw hypertable (two), not per aggregate (four).
      SELECT r.raw_id,
        (SELECT floor(min(ds.range_start) / 1000.0)::float8
           FROM _timescaledb_catalog.chunk ch
           JOIN _timescaledb_catalog.chunk_constraint cc ON cc.chunk_id = ch.id
           JOIN _timescaledb_catalog.dimension_slice ds ON ds.id = cc.dimension_slice_id
          WHERE ch.hypertable_id = r.raw_id AND NOT ch.dropped) AS raw_from_ms,
        (SELECT min(extract(epoch FROM (j.config->>'drop_after')::interval))::float8 * 1000
           FROM _timescaledb_config.bgw_job j
          WHERE j.proc_name = 'policy_retention' AND j.hypertable_id = r.raw_id) AS raw_retention_ms
      FROM (SELECT DISTINCT raw_id FROM cagg) r
    )
    SELECT c.view,
      floor(c.watermark / 1000.0)::float8 AS watermark_ms,
      floor(t.watermark / 1000.0)::float8 AS threshold_ms,
      r.raw_from_ms,
      r.raw_retention_ms,
      (SELECT coalesce(json_agg(json_build_array(
                floor(greatest(i.lo, ${fromUs}::int8) / 1000.0),
                floor(least(i.hi, ${toUs}::int8) / 1000.0) + 1)), '[]'::json)
         FROM (
           SELECT m.lowest_modified_value AS lo, m.greatest_modified_value AS hi
             FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log m
            WHERE m.materialization_id = c.mat_id
           UNION ALL
           SELECT h.lowest_modified_value, h.greatest_modified_value
             FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log h
            WHERE h.hypertable_id = c.raw_id
         ) i
        WHERE i.hi >= ${fromUs}::int8 AND i.lo < ${toUs}::int8) AS stale
    FROM cagg c
    JOIN raw r ON r.raw_id = c.raw_id
    LEFT JOIN _timescaledb_catalog.continuous_aggs_invalidation_threshold t ON t.hypertable_id = c.raw_id`.execute(db);
  // "Nothing yet" is the smallest timestamp (4714 BC) or the int8 minimum: -Infinity for both.
  const time = (ms: number | null) => (ms === null || ms < -1e14 ? -Infinity : ms);
  return result.rows.map((row) => ({
    view: row.view,
    watermarkMs: time(row.watermark_ms),
    thresholdMs: time(row.threshold_ms),
    rawFromMs: row.raw_from_ms,
    rawRetentionMs: row.raw_retention_ms,
    stale: row.stale.map(([from, to]) => ({ from, to })),
  }));
}
