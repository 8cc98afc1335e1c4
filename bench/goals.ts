import type { BenchResults } from './results.js';

/** A target the service is built to meet, and what this run measured against it. */
export interface Goal {
  goal: string;
  measured: number;
  met: boolean;
}

export function evaluateGoals({ ingest, analytics, scaling }: BenchResults): Goal[] {
  const largest = scaling.at(-1)!;
  return [
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
}
