import { loadFreshness, type Freshness } from '../aggregates/aggregate-freshness.js';
import type { AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { ReadingKind } from '../telemetry/reading.js';
import { HOUR_MS, type Interval } from '../time.js';
import type { Window } from './requested-window.js';
import { planSegments, type Segment } from './window-plan.js';

/** Plans the parts of one window against one snapshot of the aggregates' bookkeeping. */
export interface WindowPlanner {
  /** The vehicle side: the whole window. */
  vehicle: Segment[];
  /** The meter side of one span of the window (an assignment's part of it). */
  meter(span: Interval): Segment[];
}

/**
 * Runs one analytics read in a REPEATABLE READ, read-only transaction: the aggregates'
 * bookkeeping that decides the plan (aggregate-freshness.ts), the assignments and the rows
 * the plan reads come from the same snapshot, so the answer is the stored data as of one
 * instant, and every reading committed before the request began (every 202 already sent)
 * is in it. Nothing is cached across requests for the same reason: another instance may
 * have acknowledged a late reading a moment ago.
 */
export function readWindow<T>(
  db: Db,
  window: Window,
  coarsest: AggregateLevel,
  work: (trx: Db, planner: WindowPlanner, answered: Window) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const requested = { from: window.from.getTime(), to: window.to.getTime() };
      let freshness = await loadFreshness(trx, requested);
      const interval = roundArchivedEdges(requested, freshness);
      if (interval.from !== requested.from || interval.to !== requested.to) {
        freshness = await loadFreshness(trx, interval);
      }
      const plan = (stream: ReadingKind, span: Interval) =>
        answerable(planSegments(span, freshness[stream].usable, coarsest), freshness, stream);
      const answered = { from: new Date(interval.from), to: new Date(interval.to) };
      return work(trx, { vehicle: plan('vehicle', interval), meter: (span) => plan('meter', span) }, answered);
    });
}

/**
 * Where the archive job dropped the raw readings (archive mode, docs/archive.md), the hourly
 * buckets are what is left in the database: a window edge inside such an hour is moved out to
 * the hour, and the answer says so (`window` is what was answered, `requestedWindow` what was
 * asked). Exact for the answered window; reading the archive's Parquet inside a request would be
 * the alternative (`npm run archive -- query` reads it). An assignment change inside such an hour
 * still cannot be attributed: `answerable` refuses it. Where retention dropped the readings
 * without an archive nothing is moved: the window is refused, as before.
 */
function roundArchivedEdges(window: Interval, freshness: Freshness): Interval {
  const archivedBefore = Math.max(
    ...(['meter', 'vehicle'] as const).map((stream) =>
      freshness[stream].archived ? freshness[stream].rawCompleteFrom : -Infinity,
    ),
  );
  const from = window.from < archivedBefore ? Math.floor(window.from / HOUR_MS) * HOUR_MS : window.from;
  const to = window.to < archivedBefore ? Math.ceil(window.to / HOUR_MS) * HOUR_MS : window.to;
  return { from, to };
}

/**
 * Where retention dropped the raw readings, only whole aggregate buckets are left, and only
 * as far back as each aggregate's own retention keeps them: a part of the window that would
 * have to be read raw there cannot be answered exactly, and a silent zero would be a wrong
 * number. Refuse it, saying what remains (from the chunks each level still has, not from the
 * shipped policies: a DBA may change them) and how to ask instead.
 */
function answerable(segments: Segment[], freshness: Freshness, stream: ReadingKind): Segment[] {
  const { rawCompleteFrom: completeFrom, archived, keptFrom } = freshness[stream];
  if (!segments.some((segment) => segment.source === 'raw' && segment.from.getTime() < completeFrom)) return segments;
  const where = archived
    ? 'the raw readings were archived to object storage (read them with `npm run archive -- query`, docs/archive.md)'
    : 'retention dropped the raw readings';
  const kept = (level: AggregateLevel, buckets: string) => {
    const from = keptFrom[level];
    return from === null || from >= completeFrom
      ? `no ${buckets}`
      : `whole ${buckets} from ${new Date(from).toISOString()}`;
  };
  throw AppError.validation(
    [
      {
        path: 'query.from',
        message:
          `reaches before ${new Date(completeFrom).toISOString()}, where ${where}; before it only ` +
          `${kept('hourly', 'hours')} and ${kept('quarter', 'quarter hours')} remain (each aggregate's retention ` +
          'drops its older buckets): the window must lie on them',
      },
    ],
    'The window cannot be answered exactly from what is stored.',
  );
}
