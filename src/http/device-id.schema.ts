import { z } from 'zod';

/** Ids of devices, in paths and bodies alike. */
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"');

// The examples are the devices of the README's tour and docs/api.md, so "Try it out" after
// that walkthrough answers 200.
export const meterParams = z.object({ meterId: deviceIdSchema.meta({ example: 'meter-17' }) });
export const vehicleParams = z.object({ vehicleId: deviceIdSchema.meta({ example: 'ev-42' }) });
