import type Router from '@koa/router';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { requireScope } from '../auth/auth.middleware.js';
import type { AppState } from '../http/app-state.js';
import { validated, type AppContext } from '../http/validate.js';
import { findMeterOfVehicle, setMeterOfVehicle } from './mapping.repository.js';
import { vehicleParams } from '../http/device-id.schema.js';
import { setMeterBody } from './mapping.schema.js';

/** Which meter measures the AC side of which vehicle: one meter per vehicle. */
export function registerMappingRoutes(router: Router<AppState, AppContext>, db: Db): void {
  router.put(
    '/v1/vehicles/:vehicleId/meter',
    requireScope('admin'),
    validated({ params: vehicleParams, body: setMeterBody }, async ({ params, body }, ctx) => {
      await setMeterOfVehicle(db, params.vehicleId, body.meterId);
      ctx.body = { vehicleId: params.vehicleId, meterId: body.meterId };
    }),
  );

  router.get(
    '/v1/vehicles/:vehicleId/meter',
    requireScope('read'),
    validated({ params: vehicleParams }, async ({ params }, ctx) => {
      const row = await findMeterOfVehicle(db, params.vehicleId);
      if (!row) throw AppError.notFound('vehicle_not_found', `Vehicle ${params.vehicleId} has no meter mapped.`);
      ctx.body = { vehicleId: row.vehicle_id, meterId: row.meter_id };
    }),
  );
}
