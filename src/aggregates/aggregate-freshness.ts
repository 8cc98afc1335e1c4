import type { Db } from '../db/database.js';
import type { ReadingKind } from '../telemetry/reading.js';
import type { Interval } from '../time.js';
import { AGGREGATE_LEVELS, AGGREGATE_VIEWS, type AggregateLevel } from './aggregate-levels.js';
import { readAggregateStates, type AggregateStateRow } from './aggregate-state.repository.js';

/**
 * Where, inside a window, each continuous aggregate may be read instead of the raw rows.
 *
 * THE INVARIANT (what makes every analytics answer equal the sum of the stored readings):
 * a bucket is read from an aggregate only if TimescaleDB's own bookkeeping, read in the
 * same snapshot as the data, says the bucket's materialized row is the aggregate of
 * exactly the raw rows now stored; every other part of the window is read raw. That holds
 * for a bucket [b, e) when
 *   1. e <= the aggregate's watermark (it is below the materialized part), and
 *   2. e <= the raw hypertable's invalidation threshold (changes there are logged), and
 *   3. no invalidation overlaps it, in the aggregate's materialization log or in the raw
 *      hypertable's log. TimescaleDB logs every insert below the threshold in the inserting
 *      transaction, starts each aggregate with one invalidation over all time, and cuts an
 *      invalidation only in the transaction that re-materializes that range. So a bucket
 *      never materialized (backfills, stalled or narrow refresh policies, an aggregate
 *      added to a database with history) or changed since (late readings, compressed
 *      chunks included) is invalid until a refresh covers it, and is read raw meanwhile.
 * 4. the bucket is at or after the start of the aggregate's own oldest chunk: the aggregate's
 *    retention policy drops its old chunks and moves neither the watermark nor the logs.
 * Exception: below the start of the raw hypertable's oldest chunk the raw rows were
 * dropped by retention (drop_chunks also logs an invalidation there), or by the archive job
 * after archiving them (below the newest chunk it dropped); the aggregate is all that is left
 * in the database and is read as it is. Readings are only accepted well inside the refresh
 * policies' window (src/policies/), so the policies materialize them before retention
 * drops their chunk.
 *
 * Consequences: a reading is counted as soon as its transaction commits (no refresh on the
 * ingest path, so a 202 can be sent right after the commit), refreshes only move work from
 * the raw history to the aggregates, and nothing here depends on which process refreshes or
 * when: TimescaleDB's scheduler on a server, the embedded job scheduler, several API
 * instances, a stall. The service itself never refreshes an aggregate.
 */
export interface ReadingKindFreshness {
  /** Per aggregate level, where its buckets may be read. */
  usable: Record<AggregateLevel, Interval[]>;
  /**
   * Raw readings are complete from here on. Before it, retention may have dropped them
   * (older than the retention policy and before the oldest raw chunk): only whole aggregate
   * buckets can be answered there.
   */
  rawCompleteFrom: number;
  /** Raw readings before rawCompleteFrom were archived to object storage (docs/archive.md). */
  archived: boolean;
  /**
   * Per aggregate level, the start of its oldest chunk: its own retention dropped the buckets
   * before it (null: it has no chunk). What a refusal names as what remains.
   */
  keptFrom: Record<AggregateLevel, number | null>;
}
export type Freshness = Record<ReadingKind, ReadingKindFreshness>;

/** Reads the bookkeeping and returns, per stream, where the window may be read from what. */
export async function loadFreshness(db: Db, window: Interval, now = Date.now()): Promise<Freshness> {
  const states = new Map((await readAggregateStates(db, window)).map((state) => [state.view, state]));
  const forStream = (stream: ReadingKind): ReadingKindFreshness => {
    const usable = {} as ReadingKindFreshness['usable'];
    const keptFrom = {} as ReadingKindFreshness['keptFrom'];
    let rawCompleteFrom = -Infinity;
    let archived = false;
    for (const level of AGGREGATE_LEVELS) {
      const state = states.get(AGGREGATE_VIEWS[level][stream]);
      usable[level] = state ? usableSpans(state, window) : [];
      keptFrom[level] = state?.aggregateFromMs ?? null;
      if (state && state.rawRetentionMs !== null) {
        rawCompleteFrom = Math.min(state.rawFromMs ?? Infinity, now - state.rawRetentionMs);
      }
      // Archive mode: the archive job dropped every chunk it archived, and only those.
      if (state && state.archivedBeforeMs !== null) {
        rawCompleteFrom = Math.max(rawCompleteFrom, state.archivedBeforeMs);
        archived = true;
      }
    }
    return { usable, rawCompleteFrom, archived, keptFrom };
  };
  return { meter: forStream('meter'), vehicle: forStream('vehicle') };
}

/**
 * The parts of `window` where the aggregate equals the raw rows (see the invariant above),
 * as disjoint ascending intervals. Not aligned to buckets: the planner takes whole buckets
 * inside them.
 */
export function usableSpans(
  state: Pick<AggregateStateRow, 'watermarkMs' | 'thresholdMs' | 'rawFromMs' | 'aggregateFromMs' | 'stale'>,
  window: Interval,
): Interval[] {
  // Below the aggregate's oldest chunk its own retention dropped the buckets (or none were
  // ever stored): they are missing, not zero. No chunk at all: nothing of it can be read.
  const begin = Math.max(window.from, state.aggregateFromMs ?? Infinity);
  const end = Math.min(window.to, state.watermarkMs, state.thresholdMs);
  if (end <= begin) return [];
  // Without any raw chunk the raw history holds nothing: the aggregate is all there is.
  const rawFrom = state.rawFromMs ?? Infinity;
  const invalid = state.stale
    .map((range) => ({ from: Math.max(range.from, rawFrom), to: range.to }))
    .filter((range) => range.from < range.to)
    .sort((a, b) => a.from - b.from);
  const spans: Interval[] = [];
  let cursor = begin;
  for (const range of invalid) {
    if (range.from > cursor) spans.push({ from: cursor, to: Math.min(range.from, end) });
    cursor = Math.max(cursor, range.to);
    if (cursor >= end) break;
  }
  if (cursor < end) spans.push({ from: cursor, to: end });
  return spans.filter((span) => span.from < span.to);
}
