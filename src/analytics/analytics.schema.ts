import { z } from 'zod';

import { instantJson, instantQuery, pageLimitQuery } from '../http/common.schema.js';

const windowQuery = {
  from: instantQuery.optional().meta({ description: 'Window start (inclusive). Default: `to` minus 24 hours.' }),
  to: instantQuery.optional().meta({ description: 'Window end (exclusive). Default: now.' }),
};

export const performanceQuerySchema = z.object(windowQuery);

export const SERIES_BUCKETS = ['15m', '1h', '1d'] as const;
export type SeriesBucket = (typeof SERIES_BUCKETS)[number];

export const seriesQuerySchema = z.object({
  ...windowQuery,
  bucket: z
    .enum(SERIES_BUCKETS, { message: 'must be one of 15m, 1h, 1d' })
    .default('1h')
    .meta({ description: 'Bucket size; buckets are aligned to UTC (days start at 00:00Z).' }),
});

export const FLEET_SORTS = ['efficiency', '-efficiency', 'flagged', 'vehicleId'] as const;

export const fleetQuerySchema = z.object({
  ...windowQuery,
  sort: z
    .enum(FLEET_SORTS, { message: 'must be one of efficiency, -efficiency, flagged, vehicleId' })
    .optional()
    .meta({
      description:
        'efficiency: lowest first; -efficiency: highest first; flagged: low vehicles (lowest first), then implausible ' +
        'ones (highest first), then normal ones (lowest first), then insufficient_data ones (lowest first); vehicleId. ' +
        'Vehicles without a ratio come last. Default efficiency.',
    }),
  belowThreshold: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((flag) => flag === 'true')
    .optional()
    .meta({
      description:
        'true: only vehicles whose status is low (efficiency below the fault threshold, 0.85, with enough charging to judge).',
    }),
  limit: pageLimitQuery,
  cursor: z.string().max(1000, 'is not a cursor this service issued').optional().meta({
    description:
      '`nextCursor` of the previous page; it carries the window, sort and filter, so send it alone (with `limit`).',
  }),
});

export const EFFICIENCY_STATUSES = ['normal', 'low', 'implausible', 'insufficient_data', 'no_data'] as const;

const efficiencyStatus = z.enum(EFFICIENCY_STATUSES).meta({
  description:
    'low: below the threshold; implausible: DC > AC (wrong mapping or faulty meter); insufficient_data: too little ' +
    'charging to judge (neither the AC nor the DC energy reached 1 kWh, e.g. an idle hour); no_data: no AC energy. ' +
    'The same rule for every window, bucket and fleet row, and for the fleet filter and sorts.',
});

const readingCounts = z.object({ meter: z.number().int(), vehicle: z.number().int() });

/** The figures every analytics answer carries, for a window or a bucket. */
const energyFigures = {
  acEnergyKwh: z.number().meta({ description: 'AC energy drawn from the grid by the mapped meter' }),
  dcEnergyKwh: z.number().meta({ description: 'DC energy delivered to the battery' }),
  efficiencyRatio: z.number().nullable().meta({ description: 'DC / AC; null without AC energy' }),
  efficiencyStatus,
  avgBatteryTempC: z.number().nullable(),
  readings: readingCounts,
};

const windowJson = z.object({ from: instantJson, to: instantJson });
/** Present only when the answered `window` differs from the one asked for. */
const requestedWindowJson = windowJson.optional().meta({
  description:
    'The window asked for, when `window` (what the figures cover) differs from it: an edge inside an hour whose raw ' +
    'readings were archived to object storage is moved out to the hour (docs/archive.md)',
});

/** Which meters measured the AC side during which parts of the window (one per assignment). */
const metersJson = z
  .array(z.object({ meterId: z.string(), from: instantJson, to: instantJson }))
  .meta({ description: "The meters that measured the vehicle's AC side, each over its part of the window, in order" });
const latestMeterJson = z
  .string()
  .nullable()
  .meta({ description: 'The meter of the last part of the window; null when no meter was assigned during it' });

export const performanceReport = z
  .object({
    vehicleId: z.string(),
    meterId: latestMeterJson,
    meters: metersJson,
    window: windowJson,
    requestedWindow: requestedWindowJson,
    ...energyFigures,
    efficiencyThreshold: z.number(),
    socMin: z.number().nullable(),
    socMax: z.number().nullable(),
    coverage: z.object({
      expectedReadings: z
        .number()
        .int()
        .meta({ description: 'Readings a device reporting once a minute sends in the window' }),
      meter: z.number().meta({ description: 'Share of expected meter readings received (0-1)' }),
      vehicle: z.number(),
    }),
  })
  .meta({ id: 'PerformanceReport' });

export const seriesPoint = z
  .object({
    start: instantJson.meta({ description: 'Bucket start, clipped to the window' }),
    end: instantJson.meta({ description: 'Bucket end (exclusive), clipped to the window' }),
    ...energyFigures,
  })
  .meta({ id: 'SeriesPoint' });

export const seriesReport = z
  .object({
    vehicleId: z.string(),
    meterId: latestMeterJson,
    meters: metersJson,
    window: windowJson,
    requestedWindow: requestedWindowJson,
    bucket: z.enum(SERIES_BUCKETS),
    efficiencyThreshold: z.number(),
    points: z.array(seriesPoint).meta({ description: 'Every bucket of the window in order; empty buckets have zeros' }),
  })
  .meta({ id: 'PerformanceSeries' });

export const fleetItem = z
  .object({
    vehicleId: z.string(),
    meterId: latestMeterJson,
    meters: metersJson,
    ...energyFigures,
    live: z
      .object({ soc: z.number(), batteryTemp: z.number(), kwhDeliveredDc: z.number(), timestamp: instantJson })
      .nullable()
      .meta({ description: "The vehicle's latest reading; null if it never reported" }),
  })
  .meta({ id: 'FleetVehicle' });

export const fleetPage = z
  .object({
    window: windowJson,
    requestedWindow: requestedWindowJson,
    efficiencyThreshold: z.number(),
    sort: z.enum(FLEET_SORTS),
    belowThreshold: z.boolean(),
    items: z.array(fleetItem),
    nextCursor: z.string().nullable().meta({ description: 'null on the last page' }),
  })
  .meta({ id: 'FleetPage' });

export type PerformanceReport = z.infer<typeof performanceReport>;
export type SeriesReport = z.infer<typeof seriesReport>;
export type FleetPage = z.infer<typeof fleetPage>;
export type FleetSort = (typeof FLEET_SORTS)[number];
export type EfficiencyStatus = (typeof EFFICIENCY_STATUSES)[number];
/** The fleet query as validated (the cursor, when sent, carries the rest). */
export type FleetQuery = z.infer<typeof fleetQuerySchema>;
