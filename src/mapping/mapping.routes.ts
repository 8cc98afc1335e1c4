import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import { JSON_TYPE, type ApiRouter } from '../http/api-router.js';
import { vehicleParams } from '../http/device-id.schema.js';
import { parseMappingsCsv, parseMappingsJson } from './bulk-mappings.js';
import { vehicleNotMapped } from './mapping.errors.js';
import { findMeterOfVehicle, setMeterOfVehicle, upsertMappings } from './mapping.repository.js';
import { bulkMappingResult, mapping, mappingEntries, mappingsCsv, setMeterBody } from './mapping.schema.js';

const CSV_TYPE = 'text/csv';

/** Which meter measures the AC side of which vehicle: one meter per vehicle. */
export function registerMappingRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'put',
    path: '/v1/vehicles/:vehicleId/meter',
    operationId: 'setVehicleMeter',
    tag: 'Mappings',
    summary: "Set the meter that measures a vehicle's AC side",
    description: 'Replaces any earlier meter of the vehicle. Analytics use the mapping in force at query time.',
    scope: 'admin',
    request: { params: vehicleParams, body: setMeterBody },
    status: 200,
    response: { description: 'The mapping', schema: mapping },
    handler: async ({ params, body }) => {
      await setMeterOfVehicle(db, params.vehicleId, body.meterId);
      return { vehicleId: params.vehicleId, meterId: body.meterId };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/vehicles/:vehicleId/meter',
    operationId: 'getVehicleMeter',
    tag: 'Mappings',
    summary: 'The meter mapped to a vehicle',
    scope: 'read',
    request: { params: vehicleParams },
    status: 200,
    response: { description: 'The mapping', schema: mapping },
    errors: ['vehicle_not_mapped'],
    handler: async ({ params }) => {
      const row = await findMeterOfVehicle(db, params.vehicleId);
      if (!row) throw vehicleNotMapped(params.vehicleId);
      return { vehicleId: row.vehicle_id, meterId: row.meter_id };
    },
  });

  api.add({
    method: 'put',
    path: '/v1/mappings',
    operationId: 'putMappings',
    tag: 'Mappings',
    summary: 'Map many vehicles at once (JSON array or CSV)',
    description:
      'Sets the meter of every listed vehicle; vehicles not listed keep theirs. All or nothing: one bad entry or line ' +
      'refuses the whole request, with every problem listed by index (JSON) or line (CSV). A vehicle may be listed once.',
    scope: 'admin',
    bodyTypes: { [JSON_TYPE]: mappingEntries, [CSV_TYPE]: mappingsCsv },
    status: 200,
    response: { description: 'Applied', schema: bulkMappingResult },
    handler: async (_input, ctx) => {
      const body: unknown = (ctx.request as { body?: unknown }).body;
      const entries = ctx.is(CSV_TYPE)
        ? parseMappingsCsv(typeof body === 'string' ? body : '')
        : parseMappingsJson(body);
      const { created, updated } = await upsertMappings(db, entries);
      return { mappings: entries.length, created, updated, unchanged: entries.length - created - updated };
    },
  });
}
