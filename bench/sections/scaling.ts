// Section 5: how cost grows with the fleet.
import { DAY_MS } from '../../src/time.js';
import { spawnService, SPAWNED_ADMIN_KEY, stopService } from '../../tools/harness/service-process.js';
import { JsonClient } from '../../tools/simulator/http-client.js';
import type { BenchContext } from '../context.js';
import { loadDataset, randomWindow, type AnalyticsDataset } from '../lib/analytics-dataset.js';
import { httpAnalytics, warmUp } from '../lib/analytics-load.js';
import { rawScanFleet } from '../lib/direct-queries.js';
import { runLoad, type LoadResult } from '../lib/http-load.js';
import { batchedIngest } from '../lib/ingest-load.js';
import { log } from '../lib/log.js';
import { percentile, perSecond, round } from '../lib/stats.js';
import { byMode, phaseMs } from '../mode.js';

export type ScalingRow = Awaited<ReturnType<typeof scalingSection>>[number];

/** The fleet table's first page: 24 h ending within the last hour, lowest efficiency first. */
async function httpFleet(client: JsonClient, dataset: AnalyticsDataset, durationMs: number) {
  return runLoad({
    client,
    durationMs,
    concurrency: 1,
    request: () => {
      const w = randomWindow(dataset.now, DAY_MS);
      return {
        method: 'GET',
        path: `/v1/analytics/fleet?from=${w.from.toISOString()}&to=${w.to.toISOString()}&limit=100`,
        readings: 0,
      };
    },
  });
}

/** The same page computed from the raw history (no aggregates), straight on the database. */
async function rawFleetBaseline(dataset: AnalyticsDataset, samples: number) {
  const direct = await dataset.database.open();
  const latencies: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const w = randomWindow(dataset.now, DAY_MS);
    const started = performance.now();
    await rawScanFleet(direct, w.from, w.to, 100);
    latencies.push(performance.now() - started);
  }
  await direct.close();
  return { p50Ms: round(percentile(latencies, 50), 1), samples };
}

/**
 * `reuse`: datasets already loaded, by fleet size. `ingestAt1000`: section 1's batched
 * ingest, which ran with 1,000 devices already.
 */
export async function scalingSection(
  context: BenchContext,
  reuse: Map<number, AnalyticsDataset>,
  ingestAt1000: LoadResult,
) {
  const { mode } = context;
  const smoke = mode.name === 'smoke';
  const sizes = byMode(mode, { full: [100, 1000, 10_000], quick: [100, 1000], smoke: [mode.vehicles] });
  const rows = [];
  for (const devices of sizes) {
    let ingest = ingestAt1000;
    if (devices !== 1000 && !smoke) {
      log(`scaling: batched ingest with ${devices} devices`);
      const database = await context.database(`scale-${devices}`);
      const service = await spawnService({ ...database.env, LOG_LEVEL: mode.serviceLogLevel });
      const client = new JsonClient(service.url, 16, SPAWNED_ADMIN_KEY);
      ingest = await batchedIngest(client, `scale`, devices, phaseMs(mode, 20, 8));
      client.close();
      await stopService(service);
    }

    const dataset = reuse.get(devices) ?? (await loadDataset(context, devices, 0));
    log(`scaling: fleet page from the raw history (baseline), ${devices} vehicles`);
    const fleetRaw = await rawFleetBaseline(dataset, smoke ? 1 : devices >= 10_000 ? 3 : 5);
    const analyticsService = await spawnService({ ...dataset.database.env, LOG_LEVEL: mode.serviceLogLevel });
    const analyticsClient = new JsonClient(analyticsService.url, 4, SPAWNED_ADMIN_KEY);
    await warmUp(mode, analyticsClient, dataset);
    const day = await httpAnalytics(analyticsClient, dataset, DAY_MS, devices, phaseMs(mode, 8, 4));
    log(`scaling: fleet endpoint, ${devices} vehicles`);
    const fleet = await httpFleet(analyticsClient, dataset, phaseMs(mode, 20, 8));
    analyticsClient.close();
    await stopService(analyticsService);
    rows.push({
      devices,
      ingestReadingsPerSecond: perSecond(ingest.acknowledged, ingest.seconds),
      ingestP99Ms: ingest.p99Ms,
      ingestErrors: ingest.errors + ingest.refused,
      analyticsDayP50Ms: day.p50Ms,
      analyticsDayP99Ms: day.p99Ms,
      fleetPageP50Ms: fleet.p50Ms,
      fleetPageP99Ms: fleet.p99Ms,
      fleetRawScanP50Ms: fleetRaw.p50Ms,
      fleetRawOverOursP50: round(fleetRaw.p50Ms / fleet.p50Ms, 1),
      fleetErrors: fleet.errors,
      loadSeconds: dataset.loadSeconds,
    });
  }
  return rows;
}
