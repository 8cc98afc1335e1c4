import type { z } from 'zod';

import type { Scope } from '../auth/api-key.table.js';
import type { ApiRouter } from '../http/api-router.js';
import { meterParams, vehicleParams } from '../http/device-id.schema.js';
import { freshnessHeaders, setFreshness } from '../replicas/freshness.js';
import type { ReadRouter } from '../replicas/read-router.js';
import type { ReadingKind } from './reading.js';
import { listRegisterEvents } from './register-events.repository.js';
import { registerEvents, registerEventsQuery } from './register-events.schema.js';

const DESCRIPTION =
  'Register readings (`kwhConsumedAcTotal` / `kwhDeliveredDcTotal`) that count no energy or count from zero: the ' +
  "device's first register reading, resets (the register went down) and implausible jumps. Within the raw history's " +
  'retention. An empty list means none (also for a device never heard of).';

/** Resets and jumps of register devices, for an analyst checking an energy figure. */
export function registerRegisterEventRoutes(api: ApiRouter<Scope>, reads: ReadRouter): void {
  const answer = async (
    ctx: Parameters<typeof setFreshness>[0],
    stream: ReadingKind,
    deviceId: string,
    query: z.output<typeof registerEventsQuery>,
  ) => {
    // One row more than asked says whether the list is truncated.
    const { value: rows, source } = await reads.read((db) =>
      listRegisterEvents(db, stream, deviceId, query, query.limit + 1),
    );
    setFreshness(ctx, source);
    return {
      deviceId,
      events: rows.slice(0, query.limit).map((row) => ({
        timestamp: row.ts.toISOString(),
        event: row.register_event,
        kwhRegister: row.kwh_register,
        kwhCounted: row.kwh,
      })),
      truncated: rows.length > query.limit,
    };
  };

  // One route per stream, the same in all but the path: the device id is the only parameter.
  const devices = [
    { stream: 'meter', noun: 'meter', path: '/v1/meters/:meterId/register-events', params: meterParams },
    { stream: 'vehicle', noun: 'vehicle', path: '/v1/vehicles/:vehicleId/register-events', params: vehicleParams },
  ] as const;
  for (const device of devices) {
    api.add({
      method: 'get',
      path: device.path,
      operationId: device.stream === 'meter' ? 'listMeterRegisterEvents' : 'listVehicleRegisterEvents',
      tag: 'Live state',
      summary: `A register ${device.noun}'s resets and jumps`,
      description: DESCRIPTION,
      scope: 'read',
      request: { params: device.params, query: registerEventsQuery },
      status: 200,
      response: { description: 'Register events, oldest first', schema: registerEvents, headers: freshnessHeaders },
      errors: [],
      handler: ({ params, query }, ctx) =>
        answer(ctx, device.stream, 'meterId' in params ? params.meterId : params.vehicleId, query),
    });
  }
}
