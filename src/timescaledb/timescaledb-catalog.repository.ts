import { sql, type RawBuilder } from 'kysely';

import type { Db } from '../db/database.js';
import type { Interval } from '../time.js';

/**
 * The ONE module that reads TimescaleDB's own bookkeeping. Everything the service needs of it
 * is here, and checked against the server's catalog once at start-up (`checkCatalog`), so a
 * TimescaleDB release that moves something stops the start with a message naming the version
 * and what is missing, instead of failing every analytics request.
 *
 * Public interfaces first: the informational views `timescaledb_information.chunks` and
 * `.jobs` (TimescaleDB's stable contract) give the chunks and the policies. What has no public
 * equivalent is read from internal tables that every supported release has with the same
 * columns (2.23 embedded, 2.28 on PostgreSQL 15, 2.29 on PostgreSQL 17; docs/production.md):
 * - `_timescaledb_catalog.hypertable` and `.continuous_agg`: the ids that key the rest;
 * - `_timescaledb_functions.cagg_watermark(id)`: the end of an aggregate's materialized part
 *   (the function the real-time aggregates' own views call);
 * - `_timescaledb_catalog.continuous_aggs_invalidation_threshold`, and the two invalidation
 *   logs: which materialized buckets no longer match the raw rows;
 * - `_timescaledb_functions.chunk_id_from_relid(oid)`: a chunk's id (part of archive object keys).
 * What changed between releases and is deliberately not read: `chunk.dropped` (removed in
 * 2.26), `chunk_constraint` (a compatibility view since 2.28), `_timescaledb_config.bgw_job`
 * (a compatibility view since 2.25), the chunk's schema and table name columns (replaced by
 * `relid` in 2.28).
 */

/** Relation -> the columns of it this module reads. */
const RELATIONS: Record<string, readonly string[]> = {
  '_timescaledb_catalog.hypertable': ['id', 'schema_name', 'table_name'],
  '_timescaledb_catalog.continuous_agg': [
    'mat_hypertable_id',
    'raw_hypertable_id',
    'user_view_schema',
    'user_view_name',
  ],
  '_timescaledb_catalog.continuous_aggs_invalidation_threshold': ['hypertable_id', 'watermark'],
  '_timescaledb_catalog.continuous_aggs_hypertable_invalidation_log': [
    'hypertable_id',
    'lowest_modified_value',
    'greatest_modified_value',
  ],
  '_timescaledb_catalog.continuous_aggs_materialization_invalidation_log': [
    'materialization_id',
    'lowest_modified_value',
    'greatest_modified_value',
  ],
  'timescaledb_information.chunks': [
    'hypertable_schema',
    'hypertable_name',
    'chunk_schema',
    'chunk_name',
    'range_start',
    'range_end',
    'is_compressed',
  ],
  'timescaledb_information.continuous_aggregates': ['hypertable_schema', 'hypertable_name', 'view_name'],
  'timescaledb_information.jobs': [
    'job_id',
    'proc_name',
    'hypertable_schema',
    'hypertable_name',
    'config',
    'schedule_interval',
  ],
};

const FUNCTIONS = [
  '_timescaledb_functions.cagg_watermark(integer)',
  '_timescaledb_functions.chunk_id_from_relid(oid)',
  '_timescaledb_functions.to_timestamp(bigint)',
];

export type CatalogCheck =
  | { status: 'ok'; version: string }
  /** The extension is not installed in this database (yet): the migrations create it. */
  | { status: 'not_installed' }
  | { status: 'unsupported'; version: string; missing: string[] };

/** Whether this database's TimescaleDB has everything this module reads. */
export async function checkCatalog(db: Db): Promise<CatalogCheck> {
  const installed = await sql<{ version: string }>`
    SELECT extversion AS version FROM pg_extension WHERE extname = 'timescaledb'`.execute(db);
  const version = installed.rows[0]?.version;
  if (version === undefined) return { status: 'not_installed' };
  const pairs = Object.entries(RELATIONS).flatMap(([relation, columns]) => columns.map((column) => [relation, column]));
  const result = await sql<{ missing: string }>`
    SELECT r.relation || '.' || r.column_name AS missing
      FROM unnest(${pairs.map(([relation]) => relation)}::text[], ${pairs.map(([, column]) => column)}::text[])
           AS r (relation, column_name)
     WHERE NOT EXISTS (
       SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = to_regclass(r.relation) AND a.attname = r.column_name AND NOT a.attisdropped)
    UNION ALL
    SELECT f || ' (function)' FROM unnest(${FUNCTIONS}::text[]) AS f WHERE to_regprocedure(f) IS NULL`.execute(db);
  const missing = result.rows.map((row) => row.missing);
  return missing.length === 0 ? { status: 'ok', version } : { status: 'unsupported', version, missing };
}

/** The message of a catalog this service cannot read (start-up refuses; /readyz says it). */
export function unsupportedCatalogMessage(check: Extract<CatalogCheck, { status: 'unsupported' }>): string {
  return (
    `TimescaleDB ${check.version} is not supported by this version of the service: its catalog lacks ` +
    `${check.missing.join(', ')} (tested releases: docs/production.md)`
  );
}

/**
 * Runs a statement of this module; a catalog that changed under a running service (the
 * extension updated in place) fails it with undefined table, column or function: that is the
 * database being unusable for now (a 503, and /readyz says why), not a bug of the request.
 */
export async function readCatalog<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    if (code === '42P01' || code === '42703' || code === '42883') {
      throw Object.assign(new Error(`TimescaleDB's catalog changed under the service: ${String(error)}`), {
        code: 'CATALOG_MISMATCH',
        cause: error,
      });
    }
    throw error;
  }
}

/** One fact of the bookkeeping: the statement returns a flat list of them (cheap to plan). */
export interface CatalogFact {
  kind: 'aggregate' | 'threshold' | 'materialization' | 'hypertable' | 'chunks' | 'retention' | 'archived';
  /** The aggregate's materialization hypertable, or the raw hypertable, by kind. */
  id: number;
  view: string | null;
  a: number | null;
  b: number | null;
}

/**
 * In ONE statement (one snapshot), for every continuous aggregate of the schema: its
 * watermark (a) and raw hypertable (b); per hypertable (raw and materialization) the
 * invalidation threshold, the start of its oldest chunk and its retention policy (seconds);
 * the invalidations overlapping [window.from, window.to) of both logs, clipped to the window;
 * and the end of the newest chunk the archive job dropped. A UNION ALL of plain scans, cheap
 * to plan. Times are microseconds since the Unix epoch; invalidation bounds are inclusive.
 */
export function aggregateFactsQuery(window: Interval): RawBuilder<CatalogFact> {
  const fromUs = String(window.from * 1000);
  const toUs = String(window.to * 1000);
  return sql<CatalogFact>`
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
    SELECT 'chunks', h.id, NULL, (extract(epoch FROM min(c.range_start)) * 1000000)::float8, NULL
      FROM timescaledb_information.chunks c
      JOIN _timescaledb_catalog.hypertable h ON h.schema_name = c.hypertable_schema AND h.table_name = c.hypertable_name
     GROUP BY h.id
    UNION ALL
    SELECT 'retention', h.id, NULL, extract(epoch FROM (j.config->>'drop_after')::interval)::float8, NULL
      FROM timescaledb_information.jobs j
      JOIN _timescaledb_catalog.hypertable h ON h.schema_name = j.hypertable_schema AND h.table_name = j.hypertable_name
     WHERE j.proc_name = 'policy_retention'
    UNION ALL
    SELECT 'archived', h.id, NULL, (extract(epoch FROM max(m.range_end)) * 1000000)::float8, NULL
      FROM archive_manifest m
      JOIN _timescaledb_catalog.hypertable h ON h.schema_name = current_schema() AND h.table_name = m.hypertable
     WHERE m.status = 'dropped'
     GROUP BY h.id`;
}

/** A chunk's id, from its schema and table name columns (an SQL expression for a chunk listing). */
export function chunkIdOf(schemaColumn: string, tableColumn: string): RawBuilder<number> {
  return sql<number>`_timescaledb_functions.chunk_id_from_relid(format('%I.%I', ${sql.ref(schemaColumn)}, ${sql.ref(tableColumn)})::regclass)`;
}

/**
 * The start-up gate of every process that reads the bookkeeping: refuses (throws) a TimescaleDB
 * whose catalog lacks something this module reads. A database without the extension passes:
 * it is not migrated yet, which /readyz reports (and checks this again).
 */
export async function assertCatalogSupported(db: Db): Promise<CatalogCheck> {
  const check = await checkCatalog(db);
  if (check.status === 'unsupported') throw new Error(unsupportedCatalogMessage(check));
  return check;
}

/** The continuous aggregates over one hypertable of the schema (the public view). */
export async function aggregatesOver(db: Db, hypertable: string): Promise<string[]> {
  const result = await sql<{ view: string }>`
    SELECT view_name::text AS view FROM timescaledb_information.continuous_aggregates
     WHERE hypertable_schema = current_schema() AND hypertable_name = ${hypertable}
     ORDER BY view_name`.execute(db);
  return result.rows.map((row) => row.view);
}

/**
 * Why the aggregates over `hypertable` may not yet hold exactly its rows in [from, to): an
 * aggregate whose materialized part ends before `to`, an invalidation threshold below `to`
 * (changes above it are not even logged), or an invalidation overlapping the range in either
 * log. Empty: every bucket of the range is materialized from the rows now stored, so the raw
 * rows may go (the archive's drop asks this inside its transaction, under its lock).
 */
export async function aggregateCoverageProblems(db: Db, hypertable: string, from: Date, to: Date): Promise<string[]> {
  const result = await sql<{ problem: string }>`
    WITH raw AS (
      SELECT h.id FROM _timescaledb_catalog.hypertable h
       WHERE h.schema_name = current_schema() AND h.table_name = ${hypertable}
    ), bounds AS (
      SELECT (extract(epoch FROM ${from}::timestamptz) * 1000000)::int8 AS from_us,
             (extract(epoch FROM ${to}::timestamptz) * 1000000)::int8 AS to_us
    ), aggregates AS (
      SELECT ca.mat_hypertable_id AS id, ca.user_view_name::text AS view
        FROM _timescaledb_catalog.continuous_agg ca JOIN raw ON raw.id = ca.raw_hypertable_id
    )
    SELECT a.view || ' is materialized only up to ' ||
           _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(a.id)) AS problem
      FROM aggregates a, bounds b WHERE _timescaledb_functions.cagg_watermark(a.id) < b.to_us
    UNION ALL
    SELECT 'the invalidation threshold is below the range end'
      FROM raw, bounds b
     WHERE NOT EXISTS (SELECT 1 FROM _timescaledb_catalog.continuous_aggs_invalidation_threshold t
                        WHERE t.hypertable_id = raw.id AND t.watermark >= b.to_us)
       AND EXISTS (SELECT 1 FROM aggregates)
    UNION ALL
    SELECT 'a change of the raw rows is not yet in the aggregates'
      FROM raw, bounds b
     WHERE EXISTS (SELECT 1 FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log l
                    WHERE l.hypertable_id = raw.id AND l.greatest_modified_value >= b.from_us
                      AND l.lowest_modified_value < b.to_us)
    UNION ALL
    SELECT a.view || ' has an invalidation in the range'
      FROM aggregates a, bounds b
     WHERE EXISTS (SELECT 1 FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log m
                    WHERE m.materialization_id = a.id AND m.greatest_modified_value >= b.from_us
                      AND m.lowest_modified_value < b.to_us)`.execute(db);
  return result.rows.map((row) => row.problem);
}

/** Materializes `view` over [from, to) (TimescaleDB's procedure; it cannot run inside a transaction). */
export async function refreshAggregate(db: Db, view: string, from: Date, to: Date): Promise<void> {
  await sql`CALL refresh_continuous_aggregate(${view}::regclass, ${from}::timestamptz, ${to}::timestamptz)`.execute(db);
}
