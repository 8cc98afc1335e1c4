import type { Goal } from './goals.js';
import { round, table } from './lib/stats.js';
import type { BenchResults } from './results.js';
import { NOMINAL_READINGS_PER_SECOND, type AnalyticsResults } from './sections/analytics.js';
import type { IngestResults } from './sections/ingest.js';

function ingestTables(ingest: IngestResults): string[] {
  return [
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
        path: 'HTTP batched, register readings',
        'readings/s': ingest.register.readingsPerSecond,
        'requests/s': ingest.register.perSecond,
        'p50 ms': ingest.register.p50Ms,
        'p99 ms': ingest.register.p99Ms,
        refused: ingest.register.refused,
        errors: ingest.register.errors,
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
      {
        path: 'ceiling: INSERT ... SELECT generate_series (in the server)',
        'readings/s': ingest.serverBulkCeiling.readingsPerSecond,
      },
      {
        path: 'floor: bare Koa + zod, single reading (32 conns)',
        'readings/s': ingest.httpFloor.readingsPerSecond,
        'requests/s': ingest.httpFloor.perSecond,
        'p50 ms': ingest.httpFloor.p50Ms,
        'p99 ms': ingest.httpFloor.p99Ms,
        refused: ingest.httpFloor.refused,
        errors: ingest.httpFloor.errors,
      },
    ]),
    table('Ingest ratios, memory, verification', [
      {
        'batched / naive': ingest.ratios.batchedVsNaive,
        'register / interval': ingest.ratios.registerVsInterval,
        'single / naive': ingest.ratios.singleVsNaive,
        'batched / ceiling': ingest.ratios.batchedShareOfCeiling,
        'batched / server ceiling': ingest.ratios.batchedShareOfServerCeiling,
        'single / HTTP floor': ingest.ratios.singleShareOfHttpFloor,
        'API peak RSS MiB': ingest.peakRss.apiMiB,
        'DB peak RSS MiB': ingest.peakRss.databaseMiB,
        acknowledged: ingest.verification.acknowledged,
        stored: ingest.verification.stored,
        missing: ingest.verification.missing,
      },
    ]),
  ];
}

function analyticsTable(analytics: AnalyticsResults): string {
  return table(
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
  );
}

function analyticsSummary(analytics: AnalyticsResults): string {
  const { backgroundIngest } = analytics.httpUnderNominalIngest;
  return `background ingest during analytics: ${backgroundIngest.readingsPerSecond} readings/s (target ${round(NOMINAL_READINGS_PER_SECOND, 0)}), p99 ${backgroundIngest.p99Ms} ms; raw/aggregates p50: 24 h ${analytics.direct.dayRawOverAggregatesP50} x, 7 days ${analytics.direct.weekRawOverAggregatesP50} x`;
}

/** The run as text tables, for stdout. */
export function renderReport(results: BenchResults, goals: Goal[]): string {
  const { machine, ingest, analytics, scaling } = results;
  return [
    `EV telemetry benchmarks (${results.mode}) — commit ${results.commit}, ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
    results.database.kind === 'server'
      ? `Database: a TimescaleDB server, ${results.database.poolMax} connections per service (DATABASE_POOL_MAX)`
      : 'Database: embedded (one session)',
    '',
    ...ingestTables(ingest),
    analyticsTable(analytics),
    analyticsSummary(analytics),
    '',
    table('How cost grows with the fleet', scaling),
    table(
      'Goals',
      goals.map((g) => ({ goal: g.goal, measured: g.measured, met: g.met ? 'yes' : 'NO' })),
    ),
  ].join('\n');
}
