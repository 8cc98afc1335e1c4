import { z } from 'zod';

import { deviceIdSchema } from '../http/device-id.schema.js';

export interface TimestampLimits {
  /** Oldest accepted reading, relative to now. */
  maxAgeMs: number;
  /** Newest accepted reading (clock skew), relative to now. */
  maxFutureMs: number;
}

const energy = z.number().nonnegative('must be a finite number >= 0');

function timestampSchema(limits: TimestampLimits) {
  const maxAgeDays = Math.round(limits.maxAgeMs / 86_400_000);
  const maxFutureMinutes = Math.round(limits.maxFutureMs / 60_000);
  return z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone (Z or +hh:mm)' })
    .transform((text) => new Date(text))
    .refine((date) => !Number.isNaN(date.getTime()), 'is not a valid date')
    .refine(
      (date) => date.getTime() <= Date.now() + limits.maxFutureMs,
      `must not be more than ${maxFutureMinutes} minutes in the future`,
    )
    .refine(
      (date) => date.getTime() >= Date.now() - limits.maxAgeMs,
      `must not be older than the raw retention (${maxAgeDays} days)`,
    );
}

/**
 * A body holding one reading or an array of readings; either way the handler gets an array.
 * The reference shows both forms (the preprocess step itself has no JSON Schema).
 */
function batchOf<T extends z.ZodType>(reading: T, maxReadings: number) {
  const batch = z
    .array(reading)
    .min(1, 'a batch holds at least one reading')
    .max(maxReadings, `a batch holds at most ${maxReadings} readings`);
  return z
    .preprocess((body: unknown): unknown[] => (Array.isArray(body) ? (body as unknown[]) : [body]), batch)
    .meta({
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        const arraySchema = { ...jsonSchema };
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        jsonSchema.oneOf = [arraySchema.items ?? {}, arraySchema];
      },
    });
}

export const ingestResult = z
  .object({
    accepted: z.number().int().meta({ description: 'Readings stored by this request' }),
    duplicates: z
      .number()
      .int()
      .meta({ description: 'Readings whose device and timestamp were already stored (not stored again)' }),
  })
  .meta({ id: 'IngestResult' });

export function meterBatchSchema(limits: TimestampLimits, maxReadings: number) {
  const reading = z
    .object({
      meterId: deviceIdSchema,
      kwhConsumedAc: energy,
      voltage: z.number().nonnegative('must be a finite number >= 0'),
      timestamp: timestampSchema(limits),
    })
    .meta({ id: 'MeterReading' });
  return batchOf(reading, maxReadings);
}

export function vehicleBatchSchema(limits: TimestampLimits, maxReadings: number) {
  const reading = z
    .object({
      vehicleId: deviceIdSchema,
      soc: z.number().min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100'),
      kwhDeliveredDc: energy,
      batteryTemp: z.number().min(-50, 'must be between -50 and 150').max(150, 'must be between -50 and 150'),
      timestamp: timestampSchema(limits),
    })
    .meta({ id: 'VehicleReading' });
  return batchOf(reading, maxReadings);
}
