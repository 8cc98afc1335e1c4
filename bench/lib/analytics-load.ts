import { DAY_MS } from '../../src/time.js';
import type { JsonClient } from '../../tools/simulator/http-client.js';
import { phaseMs, type BenchMode } from '../mode.js';
import { randomWindow, type AnalyticsDataset } from './analytics-dataset.js';
import { benchVehicle } from './direct-queries.js';
import { runLoad, type LoadResult } from './http-load.js';

/**
 * One analyst at a time: the embedded database serves one session, so concurrent analytics
 * requests queue behind each other and their latency would measure the queue, not the query.
 */
export async function httpAnalytics(
  client: JsonClient,
  dataset: AnalyticsDataset,
  length: number,
  vehicles: number,
  durationMs: number,
) {
  return runLoad({
    client,
    durationMs,
    concurrency: 1,
    request: () => {
      const w = randomWindow(dataset.now, length);
      const vehicle = benchVehicle(Math.floor(Math.random() * vehicles));
      const query = `from=${w.from.toISOString()}&to=${w.to.toISOString()}`;
      return { method: 'GET', path: `/v1/analytics/performance/${vehicle}?${query}`, readings: 0 };
    },
  });
}

/**
 * A freshly started service is cold (JIT, database caches) and runs every TimescaleDB job
 * once at start; steady-state figures are taken after this, which is not counted.
 */
export async function warmUp(mode: BenchMode, client: JsonClient, dataset: AnalyticsDataset) {
  await httpAnalytics(client, dataset, DAY_MS, dataset.vehicles, phaseMs(mode, 6, 3));
}

/** The latency figures the results keep of an analytics load. */
export const pickLatency = (r: LoadResult) => ({
  requests: r.requests,
  perSecond: r.perSecond,
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  errors: r.errors,
});
