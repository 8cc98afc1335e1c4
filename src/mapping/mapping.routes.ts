import type { Scope } from '../auth/api-key.table.js';
import { principalOf } from '../auth/auth.middleware.js';
import type { Db } from '../db/database.js';
import { JSON_TYPE, type ApiRouter } from '../http/api-router.js';
import { meterParams, vehicleParams } from '../http/device-id.schema.js';
import { assignMeters, correctAssignment, instantOrNull, removeAssignment } from './assignment.service.js';
import { parseMappingsCsv, parseMappingsJson } from './bulk-mappings.js';
import { vehicleWithoutMeter } from './mapping.errors.js';
import {
  findAssignmentsOfMeter,
  findAssignmentsOfVehicle,
  findChanges,
  type Assignment,
} from './mapping.repository.js';
import {
  assignment,
  assignmentChanges,
  assignmentParams,
  auditQuery,
  bulkMappingResult,
  correctionBody,
  mapping,
  mappingEntries,
  mappingsCsv,
  meterHistory,
  setMeterBody,
  vehicleHistory,
} from './mapping.schema.js';

const CSV_TYPE = 'text/csv';

const assignmentJson = (a: Assignment) => ({
  id: a.id,
  vehicleId: a.vehicle_id,
  meterId: a.meter_id,
  from: instantOrNull(a.valid_from),
  to: instantOrNull(a.valid_to),
});

const ASSIGNMENT_RULES =
  'A vehicle draws from one meter at a time and a meter serves one vehicle at a time (the database enforces both); ' +
  'analytics attribute each meter reading to the vehicle assigned at its timestamp.';

/** Which meter measures the AC side of which vehicle, and since when. */
export function registerMappingRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'put',
    path: '/v1/vehicles/:vehicleId/meter',
    operationId: 'setVehicleMeter',
    tag: 'Mappings',
    summary: "Set the meter that measures a vehicle's AC side, from an instant on",
    description:
      'From `from` the vehicle draws from this meter; its assignment in force then is closed there. Without `from`: ' +
      'now for a vehicle that has an assignment (a move); since the meter was free (since the beginning for a meter ' +
      "never assigned) for a vehicle's first one, so history sent before it was mapped counts. " +
      'A vehicle with an assignment starting at or after `from`, or a meter serving another vehicle then, is a 409 ' +
      `naming the collision (correct the past with PATCH /v1/assignments/{id}). ${ASSIGNMENT_RULES}`,
    scope: 'admin',
    request: { params: vehicleParams, body: setMeterBody },
    status: 200,
    response: { description: 'The assignment in force from `from`', schema: mapping },
    errors: ['assignment_conflict'],
    handler: async ({ params, body }, ctx) => {
      const request = { vehicleId: params.vehicleId, meterId: body.meterId, from: body.from };
      await assignMeters(db, [request], principalOf(ctx.state).keyId);
      // The vehicle's latest assignment is the one this request created or left in place.
      const latest = (await findAssignmentsOfVehicle(db, params.vehicleId)).at(-1)!;
      return { vehicleId: latest.vehicle_id, meterId: latest.meter_id, from: instantOrNull(latest.valid_from) };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/vehicles/:vehicleId/meter',
    operationId: 'getVehicleMeter',
    tag: 'Mappings',
    summary: 'The meter a vehicle draws from now',
    scope: 'read',
    request: { params: vehicleParams },
    status: 200,
    response: { description: 'The assignment in force now', schema: mapping },
    errors: ['vehicle_not_found', 'vehicle_not_mapped'],
    handler: async ({ params }) => {
      const all = await findAssignmentsOfVehicle(db, params.vehicleId);
      const now = new Date();
      const row = all.find((a) => a.valid_from <= now && a.valid_to > now);
      if (!row) throw await vehicleWithoutMeter(db, params.vehicleId, all.length > 0);
      return { vehicleId: row.vehicle_id, meterId: row.meter_id, from: instantOrNull(row.valid_from) };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/vehicles/:vehicleId/meter/history',
    operationId: 'getVehicleMeterHistory',
    tag: 'Mappings',
    summary: 'Which meters a vehicle drew from, when',
    scope: 'read',
    request: { params: vehicleParams },
    status: 200,
    response: { description: 'Every assignment of the vehicle, oldest first', schema: vehicleHistory },
    handler: async ({ params }) => ({
      vehicleId: params.vehicleId,
      assignments: (await findAssignmentsOfVehicle(db, params.vehicleId)).map(assignmentJson),
    }),
  });

  api.add({
    method: 'get',
    path: '/v1/meters/:meterId/vehicle/history',
    operationId: 'getMeterVehicleHistory',
    tag: 'Mappings',
    summary: 'Which vehicles a meter served, when',
    scope: 'read',
    request: { params: meterParams },
    status: 200,
    response: { description: 'Every assignment of the meter, oldest first', schema: meterHistory },
    handler: async ({ params }) => ({
      meterId: params.meterId,
      assignments: (await findAssignmentsOfMeter(db, params.meterId)).map(assignmentJson),
    }),
  });

  api.add({
    method: 'patch',
    path: '/v1/assignments/:id',
    operationId: 'correctAssignment',
    tag: 'Mappings',
    summary: 'Correct the bounds of an assignment (back-dating, ending, re-opening); audited',
    description: `Sets both bounds (null: since the beginning / open-ended). ${ASSIGNMENT_RULES}`,
    scope: 'admin',
    request: { params: assignmentParams, body: correctionBody },
    status: 200,
    response: { description: 'The corrected assignment', schema: assignment },
    errors: ['assignment_not_found', 'assignment_conflict'],
    handler: async ({ params, body }, ctx) =>
      assignmentJson(await correctAssignment(db, params.id, body, principalOf(ctx.state).keyId)),
  });

  api.add({
    method: 'delete',
    path: '/v1/assignments/:id',
    operationId: 'deleteAssignment',
    tag: 'Mappings',
    summary: 'Delete an assignment that never held (a correction); audited',
    scope: 'admin',
    request: { params: assignmentParams },
    status: 204,
    response: { description: 'Deleted' },
    errors: ['assignment_not_found'],
    handler: async ({ params }, ctx) => {
      await removeAssignment(db, params.id, principalOf(ctx.state).keyId);
    },
  });

  api.add({
    method: 'get',
    path: '/v1/assignments/audit',
    operationId: 'getAssignmentChanges',
    tag: 'Mappings',
    summary: 'Who changed which assignment, when, newest first',
    scope: 'admin',
    request: { query: auditQuery },
    status: 200,
    response: { description: 'The changes', schema: assignmentChanges },
    handler: async ({ query }) => {
      const bounds = (from: Date | null, to: Date | null) =>
        from === null || to === null ? null : { from: instantOrNull(from), to: instantOrNull(to) };
      const changes = await findChanges(db, query);
      return {
        changes: changes.map((c) => ({
          at: c.at.toISOString(),
          actor: c.actor,
          action: c.action,
          assignmentId: c.assignment_id,
          vehicleId: c.vehicle_id,
          meterId: c.meter_id,
          before: bounds(c.old_from, c.old_to),
          after: bounds(c.new_from, c.new_to),
        })),
      };
    },
  });

  api.add({
    method: 'put',
    path: '/v1/mappings',
    operationId: 'putMappings',
    tag: 'Mappings',
    summary: 'Assign many vehicles at once (JSON array or CSV), each from an instant on',
    description:
      'Applies `PUT /v1/vehicles/{id}/meter` to every listed vehicle (each with its own `from`, default now); ' +
      'vehicles not listed keep theirs. All or nothing: one bad entry or line refuses the whole request, with every ' +
      `problem listed by index (JSON) or line (CSV). A vehicle may be listed once. The same as the changes made one ` +
      'after another: moves and changes with `from` first, then first assignments without `from` (which start where ' +
      'the moves freed their meter), each in the order listed; the moves happen at once, so vehicles can swap meters. ' +
      ASSIGNMENT_RULES,
    scope: 'admin',
    bodyTypes: { [JSON_TYPE]: mappingEntries, [CSV_TYPE]: mappingsCsv },
    status: 200,
    response: { description: 'Applied', schema: bulkMappingResult },
    errors: ['assignment_conflict'],
    handler: async (_input, ctx) => {
      const body: unknown = (ctx.request as { body?: unknown }).body;
      const csv = ctx.is(CSV_TYPE);
      const entries = csv ? parseMappingsCsv(typeof body === 'string' ? body : '') : parseMappingsJson(body);
      const requests = entries.map((e) => ({ vehicleId: e.vehicleId, meterId: e.meterId, from: e.from }));
      const where = (index: number) => (csv ? { line: entries[index]!.line ?? index + 1 } : { index });
      const result = await assignMeters(db, requests, principalOf(ctx.state).keyId, where);
      return {
        mappings: entries.length,
        created: result.created,
        updated: result.moved,
        unchanged: result.unchanged,
      };
    },
  });
}
