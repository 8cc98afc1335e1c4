import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/time.js';
import type { BenchContext } from '../context.js';
import type { BenchDatabase } from './bench-database.js';
import { loadHistory, materialize } from './direct-queries.js';
import { log } from './log.js';
import { round } from './stats.js';

/** A database holding minute data up to `now`, with its aggregates materialized. */
export interface AnalyticsDataset {
  database: BenchDatabase;
  vehicles: number;
  now: number;
  loadSeconds: number;
  materializeSeconds: number;
}

/** 24 h of minute data for `vehicles` vehicles and meters, six more days for the first `longHistory`. */
export async function loadDataset(
  context: BenchContext,
  vehicles: number,
  longHistory: number,
): Promise<AnalyticsDataset> {
  const database = await context.database(`analytics-${vehicles}`);
  const direct = await database.open();
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  log(
    `analytics: loading 24 h of minute data for ${vehicles} vehicles and meters` +
      (longHistory ? ` (+6 days for ${longHistory})` : ''),
  );
  let started = performance.now();
  await loadHistory(direct, 0, vehicles, new Date(now - DAY_MS), new Date(now));
  if (longHistory > 0) await loadHistory(direct, 0, longHistory, new Date(now - 7 * DAY_MS), new Date(now - DAY_MS));
  const loadSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await materialize(direct, new Date(now - 8 * DAY_MS), new Date(now - HOUR_MS));
  const materializeSeconds = (performance.now() - started) / 1000;
  await direct.close();
  return {
    database,
    vehicles,
    now,
    loadSeconds: round(loadSeconds, 1),
    materializeSeconds: round(materializeSeconds, 1),
  };
}

/** A random unaligned window of `length` ending within the last hour of the data. */
export function randomWindow(now: number, length: number) {
  const to = now - Math.floor(Math.random() * HOUR_MS) - Math.floor(Math.random() * MINUTE_MS);
  return { from: new Date(to - length), to: new Date(to) };
}
