import { loadFreshness, type Freshness } from '../aggregates/aggregate-freshness.js';
import type { AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { Window } from './requested-window.js';
import { planWindow, type WindowPlan } from './window-plan.js';

/**
 * Runs one analytics read in a REPEATABLE READ, read-only transaction: the aggregates'
 * bookkeeping that decides the plan (aggregate-freshness.ts) and the rows the plan reads
 * come from the same snapshot, so the answer is the stored data as of one instant, and
 * every reading committed before the request began (every 202 already sent) is in it.
 * Nothing is cached across requests for the same reason: another instance may have
 * acknowledged a late reading a moment ago.
 */
export function readWindow<T>(
  db: Db,
  window: Window,
  coarsest: AggregateLevel,
  work: (trx: Db, plan: WindowPlan) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const interval = { from: window.from.getTime(), to: window.to.getTime() };
      const freshness = await loadFreshness(trx, interval);
      const plan = planWindow(interval, freshness, coarsest);
      assertAnswerable(plan, freshness);
      return work(trx, plan);
    });
}

/**
 * Where retention dropped the raw readings, only whole aggregate buckets are left: a part of
 * the window that would have to be read raw there cannot be answered exactly, and a silent
 * zero would be a wrong number. Refuse it, saying how to ask instead.
 */
function assertAnswerable(plan: WindowPlan, freshness: Freshness): void {
  for (const stream of ['meter', 'vehicle'] as const) {
    const completeFrom = freshness[stream].rawCompleteFrom;
    if (!plan[stream].some((segment) => segment.source === 'raw' && segment.from.getTime() < completeFrom)) continue;
    throw AppError.validation(
      [
        {
          path: 'query.from',
          message:
            `reaches before ${new Date(completeFrom).toISOString()}, where retention dropped the raw readings and only ` +
            'whole quarter hours (kept 90 days) and whole hours (kept 2 years) remain: align from and to to them',
        },
      ],
      'The window cannot be answered exactly from what is stored.',
    );
  }
}
