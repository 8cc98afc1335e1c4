import { loadFreshness } from '../aggregates/aggregate-freshness.js';
import type { AggregateLevel } from '../aggregates/aggregate-levels.js';
import type { Db } from '../db/database.js';
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
      const plan = planWindow(interval, await loadFreshness(trx, interval), coarsest);
      return work(trx, plan);
    });
}
