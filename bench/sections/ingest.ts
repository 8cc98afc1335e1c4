// Sections 1-3: ingest through HTTP, the naive baseline and the bulk ceilings, on one database, and
// the HTTP floor (a bare Koa + zod endpoint) with the same client: each figure between its two references.
import { DAY_MS } from '../../src/time.js';
import { spawnService, SPAWNED_ADMIN_KEY, stopService } from '../../tools/harness/service-process.js';
import { JsonClient } from '../../tools/simulator/http-client.js';
import type { BenchContext } from '../context.js';
import { bulkInsertCeiling, countReadings, naiveIngest, serverBulkCeiling } from '../lib/direct-queries.js';
import { spawnHttpFloor } from '../lib/http-floor-process.js';
import { batchedIngest, singleIngest } from '../lib/ingest-load.js';
import { log } from '../lib/log.js';
import { peakRssMiB, perSecond, round } from '../lib/stats.js';
import { byMode, phaseMs } from '../mode.js';

export type IngestResults = Awaited<ReturnType<typeof ingestSection>>;

export async function ingestSection({ mode, database: makeDatabase }: BenchContext) {
  log('ingest: the HTTP floor, a bare Koa + zod endpoint (no key, no queue, no database)');
  const floorProcess = await spawnHttpFloor();
  const floorClient = new JsonClient(floorProcess.url, 64);
  const floor = await singleIngest(floorClient, 'floor', 1000, phaseMs(mode, 10, 5), 32);
  floorClient.close();
  await stopService(floorProcess);

  const database = await makeDatabase('ingest');
  log('ingest: starting the service');
  const service = await spawnService({ ...database.env, LOG_LEVEL: mode.serviceLogLevel });
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
  const direct = await database.open();
  const stored = await countReadings(direct);
  const acknowledged = batched.acknowledged + register.acknowledged + single.acknowledged;
  const naive = await naiveIngest(direct, phaseMs(mode, 10, 5), 1000, Date.now() - 20 * DAY_MS);
  const ceiling = await bulkInsertCeiling(direct, phaseMs(mode, 10, 5), 1000, Date.now() - 25 * DAY_MS);
  const serverMinutes = byMode(mode, { full: 600, quick: 200, smoke: 10 });
  const serverCeiling = await serverBulkCeiling(direct, 1000, serverMinutes, Date.now() - 28 * DAY_MS);
  await direct.close();

  const batchedRate = perSecond(batched.acknowledged, batched.seconds);
  const registerRate = perSecond(register.acknowledged, register.seconds);
  const singleRate = perSecond(single.acknowledged, single.seconds);
  const naiveRate = perSecond(naive.readings, naive.seconds);
  const ceilingRate = perSecond(ceiling.readings, ceiling.seconds);
  const serverCeilingRate = perSecond(serverCeiling.readings, serverCeiling.seconds);
  const floorRate = perSecond(floor.acknowledged, floor.seconds);
  return {
    batched: { ...batched, readingsPerSecond: batchedRate },
    register: { ...register, readingsPerSecond: registerRate },
    single: { ...single, readingsPerSecond: singleRate },
    naiveBaseline: { readingsPerSecond: naiveRate, seconds: round(naive.seconds, 2) },
    bulkCeiling: { readingsPerSecond: ceilingRate, seconds: round(ceiling.seconds, 2) },
    serverBulkCeiling: {
      readingsPerSecond: serverCeilingRate,
      readings: serverCeiling.readings,
      seconds: round(serverCeiling.seconds, 2),
    },
    httpFloor: { ...floor, readingsPerSecond: floorRate },
    ratios: {
      batchedVsNaive: round(batchedRate / naiveRate, 1),
      registerVsInterval: round(registerRate / batchedRate, 2),
      singleVsNaive: round(singleRate / naiveRate, 1),
      batchedShareOfCeiling: round(batchedRate / ceilingRate, 2),
      batchedShareOfServerCeiling: round(batchedRate / serverCeilingRate, 2),
      singleShareOfHttpFloor: round(singleRate / floorRate, 2),
    },
    peakRss: rss,
    verification: {
      acknowledged,
      stored: stored.meter + stored.vehicle,
      missing: acknowledged - (stored.meter + stored.vehicle),
    },
  };
}
