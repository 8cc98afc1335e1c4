import type { Db } from '../db/database.js';
import type { Interval } from '../time.js';
import { aggregateFactsQuery, readCatalog, type CatalogFact } from '../timescaledb/timescaledb-catalog.repository.js';

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
  /**
   * Start of the aggregate's own oldest chunk; null when it has none. The aggregate's retention
   * policy drops its old chunks without moving the watermark or touching the invalidation logs:
   * below this its buckets are gone, not zero.
   */
  aggregateFromMs: number | null;
  /** End of the newest chunk the archive job dropped (archived first); null when none was. */
  archivedBeforeMs: number | null;
  /** The raw hypertable's retention policy (drop_after, from the job catalog); null without one. */
  rawRetentionMs: number | null;
  /** Invalidated ranges (both logs) overlapping the window, clipped to it, half-open. */
  stale: Interval[];
}

export async function readAggregateStates(db: Db, window: Interval): Promise<AggregateStateRow[]> {
  const facts = (await readCatalog(() => aggregateFactsQuery(window).execute(db))).rows;
  const byRaw = (kind: CatalogFact['kind'], id: number) => facts.filter((f) => f.kind === kind && f.id === id);
  // "Nothing yet" is the smallest timestamp (4714 BC) or the int8 minimum: -Infinity for both.
  const ms = (us: number | null | undefined) =>
    us === null || us === undefined || us < -1e17 ? -Infinity : Math.floor(us / 1000);
  const ranges = (list: CatalogFact[]) =>
    list.map((f) => ({ from: Math.floor(f.a! / 1000), to: Math.floor(f.b! / 1000) + 1 }));
  return facts
    .filter((f) => f.kind === 'aggregate')
    .map((aggregate) => {
      const rawId = aggregate.b!;
      const rawFrom = byRaw('chunks', rawId)[0]?.a;
      const aggregateFrom = byRaw('chunks', aggregate.id)[0]?.a;
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
        aggregateFromMs:
          aggregateFrom === undefined || aggregateFrom === null ? null : Math.floor(aggregateFrom / 1000),
        archivedBeforeMs,
        rawRetentionMs: retention.length > 0 ? Math.min(...retention) * 1000 : null,
        stale: [...ranges(byRaw('materialization', aggregate.id)), ...ranges(byRaw('hypertable', rawId))],
      };
    });
}
