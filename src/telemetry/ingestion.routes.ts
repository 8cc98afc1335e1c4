import type Router from '@koa/router';
import { assertOwnDevice, principalOf, requireScope } from '../auth/auth.middleware.js';
import type { AppState } from '../http/app-state.js';
import { validated, type AppContext } from '../http/validate.js';
import { meterBatchSchema, vehicleBatchSchema, type TimestampLimits } from './ingestion.schema.js';
import type { Metrics } from '../metrics/metrics.js';
import { AppError } from '../http/app-error.js';
import type { Middleware } from 'koa';
import type { IngestionService } from './ingestion.service.js';
import type { Stream } from './reading.js';

export interface IngestionLimits extends TimestampLimits {
  maxReadingsPerRequest: number;
}

/**
 * POST one reading or an array of readings. All or nothing: one invalid reading refuses
 * the request. 202 only once the readings are committed; duplicates are counted, not stored.
 */
/** Counts the readings of requests refused for what they hold (not for overload). */
function countRejections(metrics: Metrics, stream: Stream): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof AppError && error.status >= 400 && error.status < 500 && error.status !== 429) {
        const body: unknown = (ctx.request as { body?: unknown }).body;
        metrics.readings.inc({ stream, outcome: 'rejected' }, Array.isArray(body) ? body.length : 1);
      }
      throw error;
    }
  };
}

export function registerIngestionRoutes(
  router: Router<AppState, AppContext>,
  service: IngestionService,
  limits: IngestionLimits,
  metrics: Metrics,
): void {
  router.post(
    '/v1/ingestion/meter',
    countRejections(metrics, 'meter'),
    requireScope('ingest'),
    validated({ body: meterBatchSchema(limits, limits.maxReadingsPerRequest) }, async ({ body }, ctx) => {
      assertOwnDevice(principalOf(ctx.state), body.map((r) => r.meterId), 'meterId');
      ctx.body = await service.ingestMeterReadings(body);
      ctx.status = 202;
    }),
  );

  router.post(
    '/v1/ingestion/vehicle',
    countRejections(metrics, 'vehicle'),
    requireScope('ingest'),
    validated({ body: vehicleBatchSchema(limits, limits.maxReadingsPerRequest) }, async ({ body }, ctx) => {
      assertOwnDevice(principalOf(ctx.state), body.map((r) => r.vehicleId), 'vehicleId');
      ctx.body = await service.ingestVehicleReadings(body);
      ctx.status = 202;
    }),
  );
}
