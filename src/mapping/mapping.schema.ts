import { z } from 'zod';

import { deviceIdSchema } from '../http/device-id.schema.js';

export const setMeterBody = z.object({ meterId: deviceIdSchema }).meta({ id: 'SetMeter' });

export const mapping = z.object({ vehicleId: z.string(), meterId: z.string() }).meta({ id: 'Mapping' });

/** Enough for the largest fleets in one request; the body limit (4 MiB) holds it easily as CSV. */
export const MAX_BULK_MAPPINGS = 20_000;

export const mappingEntry = z
  .object({ vehicleId: deviceIdSchema, meterId: deviceIdSchema })
  .meta({ id: 'MappingEntry' });

export const mappingEntries = z
  .array(mappingEntry)
  .min(1, 'holds at least one mapping')
  .max(MAX_BULK_MAPPINGS, `holds at most ${MAX_BULK_MAPPINGS} mappings`);

export const mappingsCsv = z.string().meta({
  description:
    'One `vehicle_id,meter_id` pair per line; an optional header line `vehicle_id,meter_id`; blank lines are ignored. ' +
    'Errors name the line number (1-based, counting the header).',
  example: 'vehicle_id,meter_id\nev-0001,meter-0001\nev-0002,meter-0002\n',
});

export const bulkMappingResult = z
  .object({
    mappings: z.number().int().meta({ description: 'Mappings in the request' }),
    created: z.number().int().meta({ description: 'Vehicles that had no meter before' }),
    updated: z.number().int().meta({ description: 'Vehicles moved to another meter' }),
    unchanged: z.number().int().meta({ description: 'Vehicles already mapped to that meter' }),
  })
  .meta({ id: 'BulkMappingResult' });
