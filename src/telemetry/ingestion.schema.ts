import { z } from 'zod';

import { deviceIdSchema } from '../http/device-id.schema.js';
import { DAY_MS, MINUTE_MS } from '../time.js';
import { READING_BOUNDS, type BoundedField } from './reading-bounds.js';

export interface TimestampLimits {
  /**
   * Oldest accepted reading, relative to now: read at validation time because it follows
   * the policies in the database (src/policies/acceptance-window.ts).
   */
  maxAgeMs: () => number;
  /** Newest accepted reading (clock skew), relative to now. */
  maxFutureMs: number;
}

/** A number within the field's physical bounds, with the bounds in the message and the reference. */
function bounded(field: BoundedField) {
  const { min, max, unit } = READING_BOUNDS[field];
  const message = `must be a number from ${min} to ${max} (${unit})`;
  return z
    .number(message)
    .min(min, message)
    .max(max, message)
    .meta({ description: `${min} to ${max} ${unit}` });
}

function timestampSchema(limits: TimestampLimits) {
  const maxFutureMinutes = Math.round(limits.maxFutureMs / MINUTE_MS);
  return z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone (Z or +hh:mm)' })
    .transform((text) => new Date(text))
    .refine((date) => !Number.isNaN(date.getTime()), 'is not a valid date')
    .refine(
      (date) => date.getTime() <= Date.now() + limits.maxFutureMs,
      `must not be more than ${maxFutureMinutes} minutes in the future`,
    )
    .superRefine((date, ctx) => {
      const maxAgeMs = limits.maxAgeMs();
      if (date.getTime() >= Date.now() - maxAgeMs) return;
      const days = Math.floor((maxAgeMs / DAY_MS) * 100) / 100;
      ctx.addIssue({
        code: 'custom',
        message: `must not be older than ${days} days (the database's refresh and retention policies, less a margin)`,
      });
    });
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

function meterReadingSchema(limits: TimestampLimits) {
  return z
    .object({
      meterId: deviceIdSchema,
      kwhConsumedAc: bounded('kwhConsumedAc'),
      voltage: bounded('voltage'),
      timestamp: timestampSchema(limits),
    })
    .meta({ id: 'MeterReading' });
}

function vehicleReadingSchema(limits: TimestampLimits) {
  return z
    .object({
      vehicleId: deviceIdSchema,
      soc: bounded('soc'),
      kwhDeliveredDc: bounded('kwhDeliveredDc'),
      batteryTemp: bounded('batteryTemp'),
      timestamp: timestampSchema(limits),
    })
    .meta({ id: 'VehicleReading' });
}

/** A meter reading as a client sends it (JSON: the timestamp is a string). */
export type MeterReadingBody = z.input<ReturnType<typeof meterReadingSchema>>;
/** A vehicle reading as a client sends it. */
export type VehicleReadingBody = z.input<ReturnType<typeof vehicleReadingSchema>>;

export function meterBatchSchema(limits: TimestampLimits, maxReadings: number) {
  return batchOf(meterReadingSchema(limits), maxReadings);
}

export function vehicleBatchSchema(limits: TimestampLimits, maxReadings: number) {
  return batchOf(vehicleReadingSchema(limits), maxReadings);
}
