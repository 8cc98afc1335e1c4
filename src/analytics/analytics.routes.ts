import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { vehicleParams } from '../http/device-id.schema.js';
import type { AppContext } from '../http/validate.js';
import type { Metrics } from '../metrics/metrics.js';
import { freshnessHeaders, setFreshness } from '../replicas/freshness.js';
import type { ReadRouter } from '../replicas/read-router.js';
import { fleetExample, performanceExample, seriesExample } from './analytics.examples.js';
import {
  fleetPage,
  fleetQuerySchema,
  performanceQuerySchema,
  performanceReport,
  seriesQuerySchema,
  seriesReport,
} from './analytics.schema.js';
import { getFleetPage } from './fleet.service.js';
import { getPerformance } from './performance.service.js';
import { getSeries } from './series.service.js';

const WINDOW_RULES =
  'Windows are half-open [from, to), at most 31 days. Whole hours come from the hourly continuous aggregates and whole ' +
  'quarter hours from the quarter-hour ones where TimescaleDB reports them up to date, everything else from the raw ' +
  'history: exact for any window, and every reading acknowledged (202) before the request is counted, also when a read replica answers (see the ' +
  '`X-Data-*` headers).';

/** How vehicles charged: one vehicle over a window, per bucket, or the whole fleet. */
export function registerAnalyticsRoutes(api: ApiRouter<Scope>, reads: ReadRouter, metrics: Metrics): void {
  /** Runs one analytics computation on a replica or the primary, timed for /metrics, its freshness in headers. */
  const timed = async <T>(ctx: AppContext, work: (db: Db) => Promise<T>): Promise<T> => {
    const stopTimer = metrics.analyticsSeconds.startTimer();
    try {
      const { value, source } = await reads.read(work);
      setFreshness(ctx, source);
      return value;
    } finally {
      stopTimer();
    }
  };

  api.add({
    method: 'get',
    path: '/v1/analytics/performance/:vehicleId',
    operationId: 'getVehiclePerformance',
    tag: 'Analytics',
    summary: 'How a vehicle charged over a window',
    description: `AC energy in (mapped meter), DC energy delivered, efficiency (DC/AC) and mean battery temperature. ${WINDOW_RULES}`,
    scope: 'read',
    request: { params: vehicleParams, query: performanceQuerySchema },
    status: 200,
    response: {
      description: 'The window figures',
      schema: performanceReport,
      headers: freshnessHeaders,
      example: performanceExample,
    },
    errors: ['vehicle_not_found', 'vehicle_not_mapped'],
    handler: ({ params, query }, ctx) => timed(ctx, (db) => getPerformance(db, params.vehicleId, query)),
  });

  api.add({
    method: 'get',
    path: '/v1/analytics/performance/:vehicleId/series',
    operationId: 'getVehiclePerformanceSeries',
    tag: 'Analytics',
    summary: "A vehicle's figures per bucket (15m, 1h, 1d)",
    description: `Every bucket of the window in order, empty buckets with zeros; the first and last are clipped to the window. ${WINDOW_RULES}`,
    scope: 'read',
    request: { params: vehicleParams, query: seriesQuerySchema },
    status: 200,
    response: { description: 'The buckets', schema: seriesReport, headers: freshnessHeaders, example: seriesExample },
    errors: ['vehicle_not_found', 'vehicle_not_mapped'],
    handler: ({ params, query }, ctx) => timed(ctx, (db) => getSeries(db, params.vehicleId, query)),
  });

  api.add({
    method: 'get',
    path: '/v1/analytics/fleet',
    operationId: 'getFleet',
    tag: 'Analytics',
    summary: 'Every mapped vehicle with its window figures, sorted and paginated',
    description:
      'The same figures as the performance endpoint, one row per vehicle assigned to a meter during the window (its `meters` and spans), with its live state. ' +
      'Sort by efficiency to see "which vehicles are losing energy right now"; `belowThreshold=true` keeps only those. ' +
      'Keyset pagination: pass `nextCursor` back as `cursor`; the window is fixed by the first page. ' +
      'Pages are not a snapshot: a reading that arrives between two pages can move a vehicle in an efficiency or flagged sort, ' +
      'so it is listed twice or on no page; `sort=vehicleId` lists each vehicle once (docs/exactness.md, "Fleet pages while data arrives"). ' +
      WINDOW_RULES,
    scope: 'read',
    request: { query: fleetQuerySchema },
    status: 200,
    response: {
      description: 'One page of vehicles',
      schema: fleetPage,
      headers: freshnessHeaders,
      example: fleetExample,
    },
    handler: ({ query }, ctx) => timed(ctx, (db) => getFleetPage(db, query)),
  });
}
