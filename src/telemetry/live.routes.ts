import type Router from '@koa/router';
import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { requireScope } from '../auth/auth.middleware.js';
import type { AppState } from '../http/app-state.js';
import { validated, type AppContext } from '../http/validate.js';
import { findMeterLive, findVehicleLive } from './live.repository.js';
import { meterParams, vehicleParams } from '../http/device-id.schema.js';

/** The latest reading of each device (by device timestamp). */
export function registerLiveRoutes(router: Router<AppState, AppContext>, db: Db): void {
  router.get(
    '/v1/meters/:meterId/live',
    requireScope('read'),
    validated({ params: meterParams }, async ({ params }, ctx) => {
      const row = await findMeterLive(db, params.meterId);
      if (!row) throw AppError.notFound('meter_not_found', `No reading received from meter ${params.meterId}.`);
      ctx.body = {
        meterId: row.meter_id,
        kwhConsumedAc: row.kwh_consumed_ac,
        voltage: row.voltage,
        timestamp: row.ts.toISOString(),
        receivedAt: row.received_at.toISOString(),
      };
    }),
  );

  router.get(
    '/v1/vehicles/:vehicleId/live',
    requireScope('read'),
    validated({ params: vehicleParams }, async ({ params }, ctx) => {
      const row = await findVehicleLive(db, params.vehicleId);
      if (!row) throw AppError.notFound('vehicle_not_found', `No reading received from vehicle ${params.vehicleId}.`);
      ctx.body = {
        vehicleId: row.vehicle_id,
        soc: row.soc,
        kwhDeliveredDc: row.kwh_delivered_dc,
        batteryTemp: row.battery_temp,
        timestamp: row.ts.toISOString(),
        receivedAt: row.received_at.toISOString(),
      };
    }),
  );
}
