// Sections 1-3: ingest through HTTP, the naive baseline and the bulk ceiling, on one database.
import { DAY_MS } from '../../src/time.js';
import { JsonClient } from '../../tools/simulator/http-client.js';
import type { BenchContext } from '../context.js';
import { bulkInsertCeiling, countReadings, naiveIngest, openDirect } from '../lib/direct-db.js';
import { batchedIngest, singleIngest } from '../lib/ingest-load.js';
import { log } from '../lib/log.js';
import { spawnService, SPAWNED_ADMIN_KEY, stopService } from '../lib/service-process.js';
import { peakRssMiB, perSecond, round } from '../lib/stats.js';
import { phaseMs } from '../mode.js';

export type IngestResults = Awaited<ReturnType<typeof ingestSection>>;

export async function ingestSection({ mode, tempDir }: BenchContext) {
  const dataDir = await tempDir('ingest');
  log('ingest: starting the service');
  const service = await spawnService({ DATA_DIR: dataDir, LOG_LEVEL: mode.serviceLogLevel });
  const client = new JsonClient(service.url, 64, SPAWNED_ADMIN_KEY);
  log(`ingest: batched requests (500 readings, 4 connections) for ${phaseMs(mode, 20, 8) / 1000} s`);
  const batched = await batchedIngest(client, 'batched', 1000, phaseMs(mode, 20, 8));
  log(`ingest: the same with register readings (energy derived per device) for ${phaseMs(mode, 20, 8) / 1000} s`);
  const register = await batchedIngest(client, 'register', 1000, phaseMs(mode, 20, 8), 500, 'register');
  log(`ingest: single-reading requests (32 connections) for ${phaseMs(mode, 20, 8) / 1000} s`);
  const single = await singleIngest(client, 'single', 1000, phaseMs(mode, 20, 8), 32);
  const rss = { apiMiB: peakRssMiB(service.child.pid), databaseMiB: peakRssMiB(service.databasePid) };
  client.close();
  await stopService(service);

  log('ingest: counting what is stored, then the naive baseline and the bulk ceiling on the same database');
  const direct = await openDirect(dataDir);
  const stored = await countReadings(direct);
  const acknowledged = batched.acknowledged + register.acknowledged + single.acknowledged;
  const naive = await naiveIngest(direct, phaseMs(mode, 10, 5), 1000, Date.now() - 20 * DAY_MS);
  const ceiling = await bulkInsertCeiling(direct, phaseMs(mode, 10, 5), 1000, Date.now() - 25 * DAY_MS);
  await direct.close();

  const batchedRate = perSecond(batched.acknowledged, batched.seconds);
  const registerRate = perSecond(register.acknowledged, register.seconds);
  const singleRate = perSecond(single.acknowledged, single.seconds);
  const naiveRate = perSecond(naive.readings, naive.seconds);
  const ceilingRate = perSecond(ceiling.readings, ceiling.seconds);
  return {
    batched: { ...batched, readingsPerSecond: batchedRate },
    register: { ...register, readingsPerSecond: registerRate },
    single: { ...single, readingsPerSecond: singleRate },
    naiveBaseline: { readingsPerSecond: naiveRate, seconds: round(naive.seconds, 2) },
    bulkCeiling: { readingsPerSecond: ceilingRate, seconds: round(ceiling.seconds, 2) },
    ratios: {
      batchedVsNaive: round(batchedRate / naiveRate, 1),
      registerVsInterval: round(registerRate / batchedRate, 2),
      singleVsNaive: round(singleRate / naiveRate, 1),
      batchedShareOfCeiling: round(batchedRate / ceilingRate, 2),
    },
    peakRss: rss,
    verification: {
      acknowledged,
      stored: stored.meter + stored.vehicle,
      missing: acknowledged - (stored.meter + stored.vehicle),
    },
  };
}
