/**
 * Benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (under 3 minutes).
 * Every comparison is measured in the same run on the same machine, so ratios hold on a
 * noisy machine. Prints tables and writes bench/results/latest[-quick].json.
 */
import { execSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { sql } from 'kysely';

import { findPerformance } from '../src/analytics/performance.repository.js';
import { readWindow } from '../src/analytics/window-snapshot.js';
import { JsonClient } from '../src/simulator/http-client.js';
import {
  benchVehicle,
  bulkInsertCeiling,
  countReadings,
  loadHistory,
  materialize,
  naiveIngest,
  openDirect,
  rawScanFleet,
  rawScanPerformance,
} from './lib/direct-db.js';
import { runLoad, type LoadResult } from './lib/http-load.js';
import { spawnService, SPAWNED_ADMIN_KEY, type ServiceProcess } from './lib/service-process.js';
import { peakRssMiB, percentile, round, table } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    /** Tiny sizes and one-second phases: the test suite runs this so the harness never rots. */
    smoke: { type: 'boolean', default: false },
    vehicles: { type: 'string' },
    out: { type: 'string' },
  },
});
const SMOKE = args.smoke;
const QUICK = args.quick || SMOKE;
const VEHICLES = Number(args.vehicles ?? (SMOKE ? 20 : 1000));
/** Phase length in ms: full, quick, or one second for the smoke run. */
const S = (full: number, quick: number) => (SMOKE ? 1 : QUICK ? quick : full) * 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Nominal fleet: 10,000 meters + 10,000 vehicles, one reading a minute each. */
const NOMINAL_READINGS_PER_SECOND = 20_000 / 60;
const LONG_HISTORY_VEHICLES = SMOKE ? 5 : 50;
/**
 * The services under test log warnings only by default, so the figures are the engine's;
 * BENCH_LOG_LEVEL=info measures them with a log line per request.
 */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const tempDirs: string[] = [];
async function tempDir(label: string) {
  const dir = await mkdtemp(join(tmpdir(), `ev-bench-${label}-`));
  tempDirs.push(dir);
  return dir;
}

async function stopService(service: ServiceProcess) {
  service.child.kill('SIGTERM');
  const code = await service.exited;
  if (code !== 0) throw new Error(`service exited with ${code}:\n${service.output().slice(-2000)}`);
}

/**
 * Readings for load generation: each device reports every 100 ms from `base` (20 minutes
 * ago), so that even 100 devices at 30,000 readings/s for 20 s stay in the past (all
 * "live", newer than an hour: no late-data refresh).
 */
const LOAD_STEP_MS = 100;
function readingsFor(
  stream: 'meter' | 'vehicle',
  prefix: string,
  devices: number,
  first: number,
  count: number,
  base: number,
) {
  return Array.from({ length: count }, (_, j) => {
    const k = first + j;
    const timestamp = new Date(base + Math.floor(k / devices) * LOAD_STEP_MS).toISOString();
    const id = `${prefix}-${k % devices}`;
    return stream === 'meter'
      ? { meterId: id, kwhConsumedAc: 0.2, voltage: 230, timestamp }
      : { vehicleId: id, soc: 50, kwhDeliveredDc: 0.18, batteryTemp: 30, timestamp };
  });
}

function batchedIngest(client: JsonClient, prefix: string, devices: number, durationMs: number, batch = 500) {
  const base = Date.now() - 20 * MINUTE;
  return runLoad({
    client,
    durationMs,
    concurrency: 4,
    request: (n) => {
      const stream = n % 2 === 0 ? 'meter' : 'vehicle';
      const body = readingsFor(stream, prefix, devices, Math.floor(n / 2) * batch, batch, base);
      return { method: 'POST', path: `/v1/ingestion/${stream}`, body, readings: batch };
    },
  });
}

function singleIngest(
  client: JsonClient,
  prefix: string,
  devices: number,
  durationMs: number,
  concurrency: number,
  ratePerSecond?: number,
) {
  const base = Date.now() - 20 * MINUTE;
  return runLoad({
    client,
    durationMs,
    concurrency,
    ratePerSecond,
    request: (n) => {
      const stream = n % 2 === 0 ? 'meter' : 'vehicle';
      const [body] = readingsFor(stream, prefix, devices, Math.floor(n / 2), 1, base);
      return { method: 'POST', path: `/v1/ingestion/${stream}`, body, readings: 1 };
    },
  });
}

const perSecond = (readings: number, seconds: number) => round(readings / seconds, 0);

// ---------------------------------------------------------------------------------------
// 1-3: ingest through HTTP, the naive baseline and the bulk ceiling, on one database.
async function ingestSection() {
  const dataDir = await tempDir('ingest');
  log('ingest: starting the service');
  const service = await spawnService({ DATA_DIR: dataDir, LOG_LEVEL: LOG_LEVEL });
  const client = new JsonClient(service.url, 64, SPAWNED_ADMIN_KEY);
  log(`ingest: batched requests (500 readings, 4 connections) for ${S(20, 8) / 1000} s`);
  const batched = await batchedIngest(client, 'batched', 1000, S(20, 8));
  log(`ingest: single-reading requests (32 connections) for ${S(20, 8) / 1000} s`);
  const single = await singleIngest(client, 'single', 1000, S(20, 8), 32);
  const rss = { apiMiB: peakRssMiB(service.child.pid), databaseMiB: peakRssMiB(service.databasePid) };
  client.close();
  await stopService(service);

  log('ingest: counting what is stored, then the naive baseline and the bulk ceiling on the same database');
  const direct = await openDirect(dataDir);
  const stored = await countReadings(direct);
  const acknowledged = batched.acknowledged + single.acknowledged;
  const naive = await naiveIngest(direct, S(10, 5), 1000, Date.now() - 20 * DAY);
  const ceiling = await bulkInsertCeiling(direct, S(10, 5), 1000, Date.now() - 25 * DAY);
  await direct.close();

  const batchedRate = perSecond(batched.acknowledged, batched.seconds);
  const singleRate = perSecond(single.acknowledged, single.seconds);
  const naiveRate = perSecond(naive.readings, naive.seconds);
  const ceilingRate = perSecond(ceiling.readings, ceiling.seconds);
  return {
    batched: { ...batched, readingsPerSecond: batchedRate },
    single: { ...single, readingsPerSecond: singleRate },
    naiveBaseline: { readingsPerSecond: naiveRate, seconds: round(naive.seconds, 2) },
    bulkCeiling: { readingsPerSecond: ceilingRate, seconds: round(ceiling.seconds, 2) },
    ratios: {
      batchedVsNaive: round(batchedRate / naiveRate, 1),
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

// ---------------------------------------------------------------------------------------
// 4: analytics at scale, ours against the raw-scan baseline, and under nominal ingest.
interface AnalyticsDataset {
  dataDir: string;
  vehicles: number;
  now: number;
  loadSeconds: number;
  materializeSeconds: number;
}

async function loadDataset(vehicles: number, longHistory: number): Promise<AnalyticsDataset> {
  const dataDir = await tempDir(`analytics-${vehicles}`);
  const direct = await openDirect(dataDir);
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  log(
    `analytics: loading 24 h of minute data for ${vehicles} vehicles and meters` +
      (longHistory ? ` (+6 days for ${longHistory})` : ''),
  );
  let started = performance.now();
  await loadHistory(direct, 0, vehicles, new Date(now - DAY), new Date(now));
  if (longHistory > 0) await loadHistory(direct, 0, longHistory, new Date(now - 7 * DAY), new Date(now - DAY));
  const loadSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await materialize(direct, new Date(now - 8 * DAY), new Date(now - HOUR));
  const materializeSeconds = (performance.now() - started) / 1000;
  await direct.close();
  return {
    dataDir,
    vehicles,
    now,
    loadSeconds: round(loadSeconds, 1),
    materializeSeconds: round(materializeSeconds, 1),
  };
}

/** A random unaligned window of `length` ending within the last hour of the data. */
function randomWindow(now: number, length: number) {
  const to = now - Math.floor(Math.random() * HOUR) - Math.floor(Math.random() * MINUTE);
  return { from: new Date(to - length), to: new Date(to) };
}

async function directComparison(dataset: AnalyticsDataset, samples: number) {
  const direct = await openDirect(dataset.dataDir);
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
    return readWindow(direct.handle.db, w, 'hourly', (trx, plan) => findPerformance(trx, pick(n), plan));
  };
  const raw = (length: number, n: number) => () => {
    const w = randomWindow(dataset.now, length);
    return rawScanPerformance(direct, pick(n), w.from, w.to);
  };
  // Warm caches first: a running service is warm; the figures are for steady state.
  for (let i = 0; i < (SMOKE ? 5 : 50); i += 1) await ours(DAY, dataset.vehicles)();
  const result = {
    floorSelect1: await measure(() => sql`SELECT 1`.execute(direct.handle.db)),
    day: { aggregates: await measure(ours(DAY, dataset.vehicles)), rawScan: await measure(raw(DAY, dataset.vehicles)) },
    week: {
      aggregates: await measure(ours(7 * DAY, LONG_HISTORY_VEHICLES)),
      rawScan: await measure(raw(7 * DAY, LONG_HISTORY_VEHICLES)),
    },
  };
  await direct.close();
  return result;
}

/**
 * One analyst at a time: the embedded database serves one session, so concurrent analytics
 * requests queue behind each other and their latency would measure the queue, not the query.
 */
async function httpAnalytics(
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

async function analyticsSection(dataset: AnalyticsDataset) {
  log('analytics: aggregates against the raw-scan baseline, straight on the database');
  const direct = await directComparison(dataset, SMOKE ? 10 : QUICK ? 100 : 300);
  log('analytics: over HTTP while ingest runs at the nominal rate in the background');
  const service = await spawnService({ DATA_DIR: dataset.dataDir, LOG_LEVEL: LOG_LEVEL });
  const client = new JsonClient(service.url, 64, SPAWNED_ADMIN_KEY);
  await warmUp(client, dataset);
  const background = singleIngest(client, 'nominal', 20_000, S(25, 12) + 2000, 8, NOMINAL_READINGS_PER_SECOND);
  const day = await httpAnalytics(client, dataset, DAY, dataset.vehicles, S(12, 5));
  const week = await httpAnalytics(client, dataset, 7 * DAY, LONG_HISTORY_VEHICLES, S(12, 5));
  const ingest = await background;
  const quiet = await httpAnalytics(client, dataset, DAY, dataset.vehicles, S(8, 4));
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

/**
 * A freshly started service is cold (JIT, database caches) and runs every TimescaleDB job
 * once at start; steady-state figures are taken after this, which is not counted.
 */
async function warmUp(client: JsonClient, dataset: AnalyticsDataset) {
  await httpAnalytics(client, dataset, DAY, dataset.vehicles, S(6, 3));
}

/** The fleet table's first page: 24 h ending within the last hour, lowest efficiency first. */
async function httpFleet(client: JsonClient, dataset: AnalyticsDataset, durationMs: number) {
  return runLoad({
    client,
    durationMs,
    concurrency: 1,
    request: () => {
      const w = randomWindow(dataset.now, DAY);
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
  const direct = await openDirect(dataset.dataDir);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const w = randomWindow(dataset.now, DAY);
    const started = performance.now();
    await rawScanFleet(direct, w.from, w.to, 100);
    latencies.push(performance.now() - started);
  }
  await direct.close();
  return { p50Ms: round(percentile(latencies, 50), 1), samples };
}

const pickLatency = (r: LoadResult) => ({
  requests: r.requests,
  perSecond: r.perSecond,
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  errors: r.errors,
});

// ---------------------------------------------------------------------------------------
// 5: how cost grows with the fleet.
async function scalingSection(reuse: Map<number, AnalyticsDataset>, ingestAt1000: LoadResult) {
  const sizes = SMOKE ? [VEHICLES] : QUICK ? [100, 1000] : [100, 1000, 10_000];
  const rows = [];
  for (const devices of sizes) {
    let ingest = ingestAt1000; // section 1 ran batched ingest with 1,000 devices already
    if (devices !== 1000 && !SMOKE) {
      log(`scaling: batched ingest with ${devices} devices`);
      const dataDir = await tempDir(`scale-${devices}`);
      const service = await spawnService({ DATA_DIR: dataDir, LOG_LEVEL: LOG_LEVEL });
      const client = new JsonClient(service.url, 16, SPAWNED_ADMIN_KEY);
      ingest = await batchedIngest(client, `scale`, devices, S(20, 8));
      client.close();
      await stopService(service);
    }

    const dataset = reuse.get(devices) ?? (await loadDataset(devices, 0));
    log(`scaling: fleet page from the raw history (baseline), ${devices} vehicles`);
    const fleetRaw = await rawFleetBaseline(dataset, SMOKE ? 1 : devices >= 10_000 ? 3 : 5);
    const analyticsService = await spawnService({ DATA_DIR: dataset.dataDir, LOG_LEVEL: LOG_LEVEL });
    const analyticsClient = new JsonClient(analyticsService.url, 4, SPAWNED_ADMIN_KEY);
    await warmUp(analyticsClient, dataset);
    const day = await httpAnalytics(analyticsClient, dataset, DAY, devices, S(8, 4));
    log(`scaling: fleet endpoint, ${devices} vehicles`);
    const fleet = await httpFleet(analyticsClient, dataset, S(20, 8));
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

function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- src bench migrations', { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const startedAt = new Date();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const ingest = await ingestSection();
  const dataset = await loadDataset(VEHICLES, LONG_HISTORY_VEHICLES);
  const analytics = await analyticsSection(dataset);
  const scaling = await scalingSection(new Map([[VEHICLES, dataset]]), ingest.batched);

  const results = {
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    mode: SMOKE ? 'smoke' : QUICK ? 'quick' : 'full',
    commit: commit(),
    startedAt: startedAt.toISOString(),
    durationSeconds: round((Date.now() - startedAt.getTime()) / 1000, 0),
    machine,
    ingest,
    analytics,
    scaling,
  };

  const largest = scaling.at(-1)!;
  const goals = [
    {
      goal: 'batched ingest >= 25,000 readings/s',
      measured: ingest.batched.readingsPerSecond,
      met: ingest.batched.readingsPerSecond >= 25_000,
    },
    {
      goal: 'batched >= 50 % of bulk ceiling',
      measured: ingest.ratios.batchedShareOfCeiling,
      met: ingest.ratios.batchedShareOfCeiling >= 0.5,
    },
    {
      goal: 'single-reading requests >= 3,000/s',
      measured: ingest.single.perSecond,
      met: ingest.single.perSecond >= 3000,
    },
    { goal: 'single-reading p99 < 50 ms', measured: ingest.single.p99Ms, met: ingest.single.p99Ms < 50 },
    {
      goal: 'analytics 24 h p99 < 10 ms under nominal ingest',
      measured: analytics.httpUnderNominalIngest.day.p99Ms,
      met: analytics.httpUnderNominalIngest.day.p99Ms < 10,
    },
    {
      goal: '7-day p99 <= 3 x 24 h p99',
      measured: analytics.httpUnderNominalIngest.weekOverDayP99,
      met: analytics.httpUnderNominalIngest.weekOverDayP99 <= 3,
    },
    {
      goal: `fleet page (24 h, 100 rows) at ${largest.devices.toLocaleString('en-US')} vehicles p99 < 1 s`,
      measured: largest.fleetPageP99Ms,
      met: largest.fleetPageP99Ms < 1000,
    },
    {
      goal: 'fleet page faster than the raw scan at every size',
      measured: Math.min(...scaling.map((row) => row.fleetRawOverOursP50)),
      met: scaling.every((row) => row.fleetRawOverOursP50 > 1),
    },
    {
      goal: 'no acknowledged reading missing',
      measured: ingest.verification.missing,
      met: ingest.verification.missing === 0,
    },
  ];

  const out = [
    `EV telemetry benchmarks (${results.mode}) — commit ${results.commit}, ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
    '',
    table('Ingest (readings/s; latency per request)', [
      {
        path: 'HTTP batched (500/request, 4 conns)',
        'readings/s': ingest.batched.readingsPerSecond,
        'requests/s': ingest.batched.perSecond,
        'p50 ms': ingest.batched.p50Ms,
        'p99 ms': ingest.batched.p99Ms,
        refused: ingest.batched.refused,
        errors: ingest.batched.errors,
      },
      {
        path: 'HTTP single reading (32 conns)',
        'readings/s': ingest.single.readingsPerSecond,
        'requests/s': ingest.single.perSecond,
        'p50 ms': ingest.single.p50Ms,
        'p99 ms': ingest.single.p99Ms,
        refused: ingest.single.refused,
        errors: ingest.single.errors,
      },
      {
        path: 'baseline: naive INSERT+UPSERT per reading (no HTTP)',
        'readings/s': ingest.naiveBaseline.readingsPerSecond,
      },
      { path: 'ceiling: unnest 5,000-row batches (no HTTP)', 'readings/s': ingest.bulkCeiling.readingsPerSecond },
    ]),
    table('Ingest ratios, memory, verification', [
      {
        'batched / naive': ingest.ratios.batchedVsNaive,
        'single / naive': ingest.ratios.singleVsNaive,
        'batched / ceiling': ingest.ratios.batchedShareOfCeiling,
        'API peak RSS MiB': ingest.peakRss.apiMiB,
        'DB peak RSS MiB': ingest.peakRss.databaseMiB,
        acknowledged: ingest.verification.acknowledged,
        stored: ingest.verification.stored,
        missing: ingest.verification.missing,
      },
    ]),
    table(
      `Analytics, ${analytics.vehicles} vehicles x 24 h loaded (${analytics.loadSeconds} s load, ${analytics.materializeSeconds} s materialize)`,
      [
        {
          measurement: 'HTTP 24 h window, nominal ingest running',
          'p50 ms': analytics.httpUnderNominalIngest.day.p50Ms,
          'p99 ms': analytics.httpUnderNominalIngest.day.p99Ms,
          'requests/s': analytics.httpUnderNominalIngest.day.perSecond,
        },
        {
          measurement: 'HTTP 7-day window, nominal ingest running',
          'p50 ms': analytics.httpUnderNominalIngest.week.p50Ms,
          'p99 ms': analytics.httpUnderNominalIngest.week.p99Ms,
          'requests/s': analytics.httpUnderNominalIngest.week.perSecond,
        },
        {
          measurement: 'HTTP 24 h window, no ingest',
          'p50 ms': analytics.httpQuiet.day.p50Ms,
          'p99 ms': analytics.httpQuiet.day.p99Ms,
          'requests/s': analytics.httpQuiet.day.perSecond,
        },
        {
          measurement: 'DB floor: SELECT 1 round trip',
          'p50 ms': analytics.direct.floorSelect1.p50Ms,
          'p99 ms': analytics.direct.floorSelect1.p99Ms,
        },
        {
          measurement: 'DB 24 h: aggregates + raw edges (ours)',
          'p50 ms': analytics.direct.day.aggregates.p50Ms,
          'p99 ms': analytics.direct.day.aggregates.p99Ms,
        },
        {
          measurement: 'DB 24 h: raw history scan (baseline)',
          'p50 ms': analytics.direct.day.rawScan.p50Ms,
          'p99 ms': analytics.direct.day.rawScan.p99Ms,
        },
        {
          measurement: 'DB 7 days: aggregates + raw edges (ours)',
          'p50 ms': analytics.direct.week.aggregates.p50Ms,
          'p99 ms': analytics.direct.week.aggregates.p99Ms,
        },
        {
          measurement: 'DB 7 days: raw history scan (baseline)',
          'p50 ms': analytics.direct.week.rawScan.p50Ms,
          'p99 ms': analytics.direct.week.rawScan.p99Ms,
        },
      ],
    ),
    `background ingest during analytics: ${analytics.httpUnderNominalIngest.backgroundIngest.readingsPerSecond} readings/s (target ${round(NOMINAL_READINGS_PER_SECOND, 0)}), p99 ${analytics.httpUnderNominalIngest.backgroundIngest.p99Ms} ms; raw/aggregates p50: 24 h ${analytics.direct.dayRawOverAggregatesP50} x, 7 days ${analytics.direct.weekRawOverAggregatesP50} x`,
    '',
    table('How cost grows with the fleet', scaling),
    table(
      'Goals',
      goals.map((g) => ({ goal: g.goal, measured: g.measured, met: g.met ? 'yes' : 'NO' })),
    ),
  ].join('\n');
  process.stdout.write(out + '\n');
  const file = args.out ?? join('bench', 'results', QUICK ? 'latest-quick.json' : 'latest.json');
  await writeFile(file, JSON.stringify({ ...results, goals }, null, 2) + '\n');
  log(`results written to ${file}`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });
