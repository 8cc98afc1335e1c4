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

/** The schema with a description in front of the bounds its reference shows. */
function describe(schema: ReturnType<typeof bounded>, description: string) {
  const bounds = schema.meta()?.description ?? '';
  return schema.meta({ description: description + bounds });
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

/**
 * Exactly one energy form per reading: the interval energy or the register (running total).
 * Both absent or both present is a 400 naming the interval field, reported with the reading's
 * other problems (`when`: checked even if another field is invalid). The parsed reading holds
 * both keys, the absent one as null.
 */
function oneEnergyForm(interval: string, register: string) {
  const message =
    `give exactly one of ${interval} (energy since the previous reading) or ${register} ` +
    '(the running total of a register)';
  const given = (reading: unknown, key: string) =>
    typeof reading === 'object' && reading !== null && (reading as Record<string, unknown>)[key] !== undefined;
  const check = (reading: unknown) => given(reading, interval) !== given(reading, register);
  const params = {
    path: [interval],
    message,
    when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
  };
  return [check, params] as const;
}

const INTERVAL_DESCRIPTION = 'Energy of the interval since the previous reading of this device. ';
const REGISTER_DESCRIPTION =
  'The running total of an energy register (OCPP `Energy.Active.Import.Register`), in kWh, sent instead of the ' +
  'interval energy. The interval energy is derived in timestamp order whatever the arrival order: a decrease of more ' +
  'than 0.01 kWh is a reset (counts from zero; a smaller one is meter jitter and counts 0), an increase above the ' +
  'interval bound is a jump (counted as 0); both are recorded as register events. Stored exactly as sent: every value ' +
  'of up to 15 significant digits is kept, and one with digits a double does not hold is refused (400). ';

function meterReadingSchema(limits: TimestampLimits) {
  return z
    .object({
      meterId: deviceIdSchema,
      kwhConsumedAc: describe(bounded('kwhConsumedAc'), INTERVAL_DESCRIPTION + 'Or send `kwhConsumedAcTotal`.'),
      kwhConsumedAcTotal: describe(bounded('kwhConsumedAcTotal'), REGISTER_DESCRIPTION),
      voltage: bounded('voltage'),
      timestamp: timestampSchema(limits),
    })
    .partial({ kwhConsumedAc: true, kwhConsumedAcTotal: true })
    .refine(...oneEnergyForm('kwhConsumedAc', 'kwhConsumedAcTotal'))
    .transform(({ kwhConsumedAc, kwhConsumedAcTotal, ...reading }) => ({
      ...reading,
      kwhConsumedAc: kwhConsumedAc ?? null,
      kwhConsumedAcTotal: kwhConsumedAcTotal ?? null,
    }))
    .meta({ id: 'MeterReading' });
}

function vehicleReadingSchema(limits: TimestampLimits) {
  return z
    .object({
      vehicleId: deviceIdSchema,
      soc: bounded('soc'),
      kwhDeliveredDc: describe(bounded('kwhDeliveredDc'), INTERVAL_DESCRIPTION + 'Or send `kwhDeliveredDcTotal`.'),
      kwhDeliveredDcTotal: describe(bounded('kwhDeliveredDcTotal'), REGISTER_DESCRIPTION),
      batteryTemp: bounded('batteryTemp'),
      timestamp: timestampSchema(limits),
    })
    .partial({ kwhDeliveredDc: true, kwhDeliveredDcTotal: true })
    .refine(...oneEnergyForm('kwhDeliveredDc', 'kwhDeliveredDcTotal'))
    .transform(({ kwhDeliveredDc, kwhDeliveredDcTotal, ...reading }) => ({
      ...reading,
      kwhDeliveredDc: kwhDeliveredDc ?? null,
      kwhDeliveredDcTotal: kwhDeliveredDcTotal ?? null,
    }))
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
