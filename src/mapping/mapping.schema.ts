import { z } from 'zod';

import { instantInput, instantJson, pageLimitQuery } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';

/** An instant in a JSON body (or a CSV field). */
const instantBody = instantInput;

const fromField = instantBody.optional().meta({
  description:
    'When the vehicle starts drawing from this meter; its assignment in force then is closed there. Default: now ' +
    "for a move, since the meter was free for a vehicle's first assignment.",
});

export const setMeterBody = z.object({ meterId: deviceIdSchema, from: fromField }).meta({ id: 'SetMeter' });

const bound = instantJson.nullable();

export const mapping = z
  .object({
    vehicleId: z.string(),
    meterId: z.string(),
    from: bound.meta({ description: 'Since when (null: since the beginning)' }),
  })
  .meta({ id: 'Mapping' });

export const assignmentId = z.coerce
  .number({ message: 'must be an assignment id' })
  .int('must be an assignment id')
  .positive('must be an assignment id');
export const assignmentParams = z.object({ id: assignmentId });

export const assignment = z
  .object({
    id: z.number().int(),
    vehicleId: z.string(),
    meterId: z.string(),
    from: bound.meta({ description: 'Start (inclusive); null: since the beginning' }),
    to: bound.meta({ description: 'End (exclusive); null: open-ended, in force now' }),
  })
  .meta({ id: 'Assignment' });

export const vehicleHistory = z
  .object({ vehicleId: z.string(), assignments: z.array(assignment).meta({ description: 'Oldest first' }) })
  .meta({ id: 'VehicleMeterHistory' });

export const meterHistory = z
  .object({ meterId: z.string(), assignments: z.array(assignment).meta({ description: 'Oldest first' }) })
  .meta({ id: 'MeterVehicleHistory' });

export const correctionBody = z
  .object({
    from: instantBody.nullable().meta({ description: 'New start; null: since the beginning' }),
    to: instantBody.nullable().meta({ description: 'New end; null: open-ended' }),
  })
  .meta({ id: 'AssignmentCorrection' });

export const auditQuery = z.object({
  vehicleId: deviceIdSchema.optional(),
  meterId: deviceIdSchema.optional(),
  limit: pageLimitQuery,
});

export const assignmentChanges = z
  .object({
    changes: z.array(
      z.object({
        at: instantJson,
        actor: z.string().meta({ description: 'The API key id that made the change (migration: the upgrade)' }),
        action: z.enum(['assign', 'close', 'correct', 'delete', 'migrate']),
        assignmentId: z.number().int(),
        vehicleId: z.string(),
        meterId: z.string(),
        before: z.object({ from: bound, to: bound }).nullable(),
        after: z.object({ from: bound, to: bound }).nullable(),
      }),
    ),
  })
  .meta({ id: 'AssignmentChanges' });

/** Enough for the largest fleets in one request; the body limit (4 MiB) holds it easily as CSV. */
export const MAX_BULK_MAPPINGS = 20_000;

export const mappingEntry = z
  .object({ vehicleId: deviceIdSchema, meterId: deviceIdSchema, from: fromField })
  .meta({ id: 'MappingEntry' });

export const mappingEntries = z
  .array(mappingEntry)
  .min(1, 'holds at least one mapping')
  .max(MAX_BULK_MAPPINGS, `holds at most ${MAX_BULK_MAPPINGS} mappings`);

export const mappingsCsv = z.string().meta({
  description:
    'One `vehicle_id,meter_id[,from]` line per vehicle (`from`: ISO-8601 with a zone, default now); an optional ' +
    'header line `vehicle_id,meter_id` or `vehicle_id,meter_id,from`; blank lines are ignored. Errors name the line ' +
    'number (1-based, counting the header).',
  example: 'vehicle_id,meter_id\nev-0001,meter-0001\nev-0002,meter-0002\n',
});

export const bulkMappingResult = z
  .object({
    mappings: z.number().int().meta({ description: 'Mappings in the request' }),
    created: z.number().int().meta({ description: 'Vehicles that had no meter at their `from`' }),
    updated: z.number().int().meta({ description: 'Vehicles moved to another meter at their `from`' }),
    unchanged: z.number().int().meta({ description: 'Vehicles already drawing from that meter since then' }),
  })
  .meta({ id: 'BulkMappingResult' });
