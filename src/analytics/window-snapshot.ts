import { loadFreshness, type Freshness } from '../aggregates/aggregate-freshness.js';
import type { AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { Stream } from '../telemetry/reading.js';
import type { Interval } from '../time.js';
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
  work: (trx: Db, planner: WindowPlanner) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const interval = { from: window.from.getTime(), to: window.to.getTime() };
      const freshness = await loadFreshness(trx, interval);
      const plan = (stream: Stream, span: Interval) =>
        answerable(planSegments(span, freshness[stream].usable, coarsest), freshness, stream);
      return work(trx, { vehicle: plan('vehicle', interval), meter: (span) => plan('meter', span) });
    });
}

/**
 * Where retention dropped the raw readings, only whole aggregate buckets are left: a part of
 * the window that would have to be read raw there cannot be answered exactly, and a silent
 * zero would be a wrong number. Refuse it, saying how to ask instead.
 */
function answerable(segments: Segment[], freshness: Freshness, stream: Stream): Segment[] {
  const { rawCompleteFrom: completeFrom, archived } = freshness[stream];
  if (!segments.some((segment) => segment.source === 'raw' && segment.from.getTime() < completeFrom)) return segments;
  const where = archived
    ? 'the raw readings were archived to object storage (read them with `npm run archive -- query`, docs/archive.md)'
    : 'retention dropped the raw readings';
  throw AppError.validation(
    [
      {
        path: 'query.from',
        message:
          `reaches before ${new Date(completeFrom).toISOString()}, where ${where} and only ` +
          'whole quarter hours (kept 90 days) and whole hours (kept 2 years) remain: align from and to to them',
      },
    ],
    'The window cannot be answered exactly from what is stored.',
  );
}
