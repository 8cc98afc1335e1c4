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
  /**
   * Start of the raw hypertable's oldest chunk; null when it has no chunk at all. In archive
   * mode never before the end of the newest archived and dropped chunk: a chunk put back by a
   * restore before it does not make the gaps around it raw-complete.
   */
  rawFromMs: number | null;
  /** End of the newest chunk the archive job dropped (archived first); null when none was. */
  archivedBeforeMs: number | null;
  /** The raw hypertable's retention policy (drop_after, from the job catalog); null without one. */
  rawRetentionMs: number | null;
  /** Invalidated ranges (both logs) overlapping the window, clipped to it, half-open. */
  stale: Interval[];
}

/** One fact of the bookkeeping: the statement returns a flat list of them (cheap to plan). */
interface Fact {
  kind: 'aggregate' | 'threshold' | 'materialization' | 'hypertable' | 'chunks' | 'retention' | 'archived';
  /** The aggregate's materialization hypertable, or the raw hypertable, by kind. */
  id: number;
  view: string | null;
  a: number | null;
  b: number | null;
}

/**
 * Reads, in ONE statement (one snapshot), for every continuous aggregate of the schema:
 * its watermark, the invalidation threshold of its raw hypertable, the start of the raw
 * hypertable's oldest chunk, its retention policy and the invalidations that overlap
 * [window.from, window.to): the aggregate's own materialization log and the raw hypertable's
 * log (changes not yet moved to the aggregates' logs by a refresh). These catalog tables are
 * TimescaleDB's internal but stable API of 2.x (readable by PUBLIC); times there are
 * microseconds since the Unix epoch, and invalidation bounds are inclusive.
 */
export async function readAggregateStates(db: Db, window: Interval): Promise<AggregateStateRow[]> {
  const facts = (await aggregateStatesQuery(window).execute(db)).rows;
  const byRaw = (kind: Fact['kind'], id: number) => facts.filter((f) => f.kind === kind && f.id === id);
  // "Nothing yet" is the smallest timestamp (4714 BC) or the int8 minimum: -Infinity for both.
  const ms = (us: number | null | undefined) =>
    us === null || us === undefined || us < -1e17 ? -Infinity : Math.floor(us / 1000);
  const ranges = (list: Fact[]) =>
    list.map((f) => ({ from: Math.floor(f.a! / 1000), to: Math.floor(f.b! / 1000) + 1 }));
  return facts
    .filter((f) => f.kind === 'aggregate')
    .map((aggregate) => {
      const rawId = aggregate.b!;
      const rawFrom = byRaw('chunks', rawId)[0]?.a;
      const retention = byRaw('retention', rawId).map((f) => f.a!);
      const archived = byRaw('archived', rawId)[0]?.a;
      const archivedBeforeMs = archived === undefined || archived === null ? null : Math.floor(archived / 1000);
      return {
        view: aggregate.view!,
        watermarkMs: ms(aggregate.a),
        thresholdMs: ms(byRaw('threshold', rawId)[0]?.a),
        rawFromMs:
          rawFrom === undefined || rawFrom === null
            ? null
            : Math.max(Math.floor(rawFrom / 1000), archivedBeforeMs ?? -Infinity),
        archivedBeforeMs,
        rawRetentionMs: retention.length > 0 ? Math.min(...retention) * 1000 : null,
        stale: [...ranges(byRaw('materialization', aggregate.id)), ...ranges(byRaw('hypertable', rawId))],
      };
    });
}

/** The catalog statement itself: a UNION ALL of plain scans, cheap to plan. */
function aggregateStatesQuery(window: Interval) {
  const fromUs = String(window.from * 1000);
  const toUs = String(window.to * 1000);
  return sql<Fact>`
    SELECT 'aggregate' AS kind, ca.mat_hypertable_id AS id, ca.user_view_name::text AS view,
           _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id)::float8 AS a, ca.raw_hypertable_id::float8 AS b
      FROM _timescaledb_catalog.continuous_agg ca
     WHERE ca.user_view_schema = current_schema()
    UNION ALL
    SELECT 'threshold', t.hypertable_id, NULL, t.watermark::float8, NULL
      FROM _timescaledb_catalog.continuous_aggs_invalidation_threshold t
    UNION ALL
    SELECT 'materialization', m.materialization_id, NULL,
           greatest(m.lowest_modified_value, ${fromUs}::int8)::float8, least(m.greatest_modified_value, ${toUs}::int8)::float8
      FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log m
     WHERE m.greatest_modified_value >= ${fromUs}::int8 AND m.lowest_modified_value < ${toUs}::int8
    UNION ALL
    SELECT 'hypertable', h.hypertable_id, NULL,
           greatest(h.lowest_modified_value, ${fromUs}::int8)::float8, least(h.greatest_modified_value, ${toUs}::int8)::float8
      FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log h
     WHERE h.greatest_modified_value >= ${fromUs}::int8 AND h.lowest_modified_value < ${toUs}::int8
    UNION ALL
    SELECT 'chunks', ch.hypertable_id, NULL, min(ds.range_start)::float8, NULL
      FROM _timescaledb_catalog.chunk ch
      JOIN _timescaledb_catalog.chunk_constraint cc ON cc.chunk_id = ch.id
      JOIN _timescaledb_catalog.dimension_slice ds ON ds.id = cc.dimension_slice_id
     WHERE NOT ch.dropped
     GROUP BY ch.hypertable_id
    UNION ALL
    SELECT 'retention', j.hypertable_id, NULL, extract(epoch FROM (j.config->>'drop_after')::interval)::float8, NULL
      FROM _timescaledb_config.bgw_job j
     WHERE j.proc_name = 'policy_retention'
    UNION ALL
    SELECT 'archived', h.id, NULL, (extract(epoch FROM max(m.range_end)) * 1000000)::float8, NULL
      FROM archive_manifest m
      JOIN _timescaledb_catalog.hypertable h ON h.schema_name = current_schema() AND h.table_name = m.hypertable
     WHERE m.status = 'dropped'
     GROUP BY h.id`;
}
