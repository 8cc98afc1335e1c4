import type { Scope } from '../auth/api-key.table.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { meterParams, vehicleParams } from '../http/device-id.schema.js';
import { freshnessHeaders, setFreshness } from '../replicas/freshness.js';
import type { ReadRouter } from '../replicas/read-router.js';
import { findMeterLive, findVehicleLive } from './live.repository.js';
import { meterLive, vehicleLive } from './live.schema.js';

/** The latest reading of each device (by device timestamp). */
export function registerLiveRoutes(api: ApiRouter<Scope>, reads: ReadRouter): void {
  api.add({
    method: 'get',
    path: '/v1/meters/:meterId/live',
    operationId: 'getMeterLive',
    tag: 'Live state',
    summary: "A meter's latest reading",
    description: 'The reading with the newest device timestamp; a late reading never replaces a newer one.',
    scope: 'read',
    request: { params: meterParams },
    status: 200,
    response: { description: 'The latest reading', schema: meterLive, headers: freshnessHeaders },
    errors: ['meter_not_found'],
    handler: async ({ params }, ctx) => {
      const { value: row, source } = await reads.read((db) => findMeterLive(db, params.meterId));
      setFreshness(ctx, source);
      if (!row) throw new AppError('meter_not_found', `No reading received from meter ${params.meterId}.`);
      return {
        meterId: row.meter_id,
        kwhConsumedAc: row.kwh_consumed_ac,
        kwhConsumedAcTotal: row.kwh_register,
        voltage: row.voltage,
        timestamp: row.ts.toISOString(),
        receivedAt: row.received_at.toISOString(),
      };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/vehicles/:vehicleId/live',
    operationId: 'getVehicleLive',
    tag: 'Live state',
    summary: "A vehicle's latest reading",
    description: 'The reading with the newest device timestamp; a late reading never replaces a newer one.',
    scope: 'read',
    request: { params: vehicleParams },
    status: 200,
    response: { description: 'The latest reading', schema: vehicleLive, headers: freshnessHeaders },
    errors: ['vehicle_not_found'],
    handler: async ({ params }, ctx) => {
      const { value: row, source } = await reads.read((db) => findVehicleLive(db, params.vehicleId));
      setFreshness(ctx, source);
      if (!row) throw new AppError('vehicle_not_found', `No reading received from vehicle ${params.vehicleId}.`);
      return {
        vehicleId: row.vehicle_id,
        soc: row.soc,
        kwhDeliveredDc: row.kwh_delivered_dc,
        kwhDeliveredDcTotal: row.kwh_register,
        batteryTemp: row.battery_temp,
        timestamp: row.ts.toISOString(),
        receivedAt: row.received_at.toISOString(),
      };
    },
  });
}
