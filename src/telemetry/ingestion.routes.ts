import type Router from '@koa/router';
import { assertOwnDevice, principalOf, requireScope } from '../auth/auth.middleware.js';
import type { AppState } from '../http/app-state.js';
import { validated, type AppContext } from '../http/validate.js';
import { meterBatchSchema, vehicleBatchSchema, type TimestampLimits } from './ingestion.schema.js';
import type { IngestionService } from './ingestion.service.js';

export interface IngestionLimits extends TimestampLimits {
  maxReadingsPerRequest: number;
}

/**
 * POST one reading or an array of readings. All or nothing: one invalid reading refuses
 * the request. 202 only once the readings are committed; duplicates are counted, not stored.
 */
export function registerIngestionRoutes(
  router: Router<AppState, AppContext>,
  service: IngestionService,
  limits: IngestionLimits,
): void {
  router.post(
    '/v1/ingestion/meter',
    requireScope('ingest'),
    validated({ body: meterBatchSchema(limits, limits.maxReadingsPerRequest) }, async ({ body }, ctx) => {
      assertOwnDevice(principalOf(ctx.state), body.map((r) => r.meterId), 'meterId');
      ctx.body = await service.ingestMeterReadings(body);
      ctx.status = 202;
    }),
  );

  router.post(
    '/v1/ingestion/vehicle',
    requireScope('ingest'),
    validated({ body: vehicleBatchSchema(limits, limits.maxReadingsPerRequest) }, async ({ body }, ctx) => {
      assertOwnDevice(principalOf(ctx.state), body.map((r) => r.vehicleId), 'vehicleId');
      ctx.body = await service.ingestVehicleReadings(body);
      ctx.status = 202;
    }),
  );
}
