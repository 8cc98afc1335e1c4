// Section 4: analytics at scale, ours against the raw-scan baseline, and under nominal ingest.
import { sql } from 'kysely';

import { getPerformance } from '../../src/analytics/performance.service.js';
import { DAY_MS } from '../../src/time.js';
import { spawnService, SPAWNED_ADMIN_KEY, stopService } from '../../tools/harness/service-process.js';
import { JsonClient } from '../../tools/simulator/http-client.js';
import type { BenchContext } from '../context.js';
import { randomWindow, type AnalyticsDataset } from '../lib/analytics-dataset.js';
import { httpAnalytics, pickLatency, warmUp } from '../lib/analytics-load.js';
import { benchVehicle, rawScanPerformance } from '../lib/direct-queries.js';
import { singleIngest } from '../lib/ingest-load.js';
import { log } from '../lib/log.js';
import { percentile, perSecond, round } from '../lib/stats.js';
import { byMode, phaseMs, type BenchMode } from '../mode.js';

/** Nominal fleet: 10,000 meters + 10,000 vehicles, one reading a minute each. */
export const NOMINAL_READINGS_PER_SECOND = 20_000 / 60;

export type AnalyticsResults = Awaited<ReturnType<typeof analyticsSection>>;

async function directComparison(mode: BenchMode, dataset: AnalyticsDataset, samples: number) {
  const direct = await dataset.database.open();
  const measure = async (fn: () => Promise<unknown>) => {
    const latencies: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const started = performance.now();
      await fn();
      latencies.push(performance.now() - started);
    }
    return { p50Ms: round(percentile(latencies, 50), 2), p99Ms: round(percentile(latencies, 99), 2) };
  };
  const pick = (n: number) => benchVehicle(Math.floor(Math.random() * n));
  const ours = (length: number, n: number) => () => {
    const w = randomWindow(dataset.now, length);
    return getPerformance(direct.handle.db, pick(n), w);
  };
  const raw = (length: number, n: number) => () => {
    const w = randomWindow(dataset.now, length);
    return rawScanPerformance(direct, pick(n), w.from, w.to);
  };
  // Warm caches first: a running service is warm; the figures are for steady state.
  const warmUpQueries = byMode(mode, { full: 50, quick: 50, smoke: 5 });
  for (let i = 0; i < warmUpQueries; i += 1) await ours(DAY_MS, dataset.vehicles)();
  const result = {
    floorSelect1: await measure(() => sql`SELECT 1`.execute(direct.handle.db)),
    day: {
      aggregates: await measure(ours(DAY_MS, dataset.vehicles)),
      rawScan: await measure(raw(DAY_MS, dataset.vehicles)),
    },
    week: {
      aggregates: await measure(ours(7 * DAY_MS, mode.longHistoryVehicles)),
      rawScan: await measure(raw(7 * DAY_MS, mode.longHistoryVehicles)),
    },
  };
  await direct.close();
  return result;
}

export async function analyticsSection({ mode }: BenchContext, dataset: AnalyticsDataset) {
  log('analytics: aggregates against the raw-scan baseline, straight on the database');
  const direct = await directComparison(mode, dataset, byMode(mode, { full: 300, quick: 100, smoke: 10 }));
  log('analytics: over HTTP while ingest runs at the nominal rate in the background');
  const service = await spawnService({ ...dataset.database.env, LOG_LEVEL: mode.serviceLogLevel });
  const client = new JsonClient(service.url, 64, SPAWNED_ADMIN_KEY);
  await warmUp(mode, client, dataset);
  const background = singleIngest(
    client,
    'nominal',
    20_000,
    phaseMs(mode, 25, 12) + 2000,
    8,
    NOMINAL_READINGS_PER_SECOND,
  );
  const day = await httpAnalytics(client, dataset, DAY_MS, dataset.vehicles, phaseMs(mode, 12, 5));
  const week = await httpAnalytics(client, dataset, 7 * DAY_MS, mode.longHistoryVehicles, phaseMs(mode, 12, 5));
  const ingest = await background;
  const quiet = await httpAnalytics(client, dataset, DAY_MS, dataset.vehicles, phaseMs(mode, 8, 4));
  client.close();
  await stopService(service);
  return {
    vehicles: dataset.vehicles,
    loadSeconds: dataset.loadSeconds,
    materializeSeconds: dataset.materializeSeconds,
    direct: {
      ...direct,
      dayRawOverAggregatesP50: round(direct.day.rawScan.p50Ms / direct.day.aggregates.p50Ms, 1),
      weekRawOverAggregatesP50: round(direct.week.rawScan.p50Ms / direct.week.aggregates.p50Ms, 1),
    },
    httpUnderNominalIngest: {
      day: pickLatency(day),
      week: pickLatency(week),
      weekOverDayP99: round(week.p99Ms / day.p99Ms, 2),
      backgroundIngest: {
        readingsPerSecond: perSecond(ingest.acknowledged, ingest.seconds),
        p99Ms: ingest.p99Ms,
        errors: ingest.errors,
      },
    },
    httpQuiet: { day: pickLatency(quiet) },
  };
}
