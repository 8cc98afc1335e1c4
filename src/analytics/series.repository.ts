import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { meterRows, vehicleRows, type MeterPart } from './energy-rows.js';
import type { Segment } from './window-plan.js';

/** A Postgres interval literal for time_bucket, e.g. '15 minutes'. */
export type BucketInterval = '15 minutes' | '1 hour' | '1 day';

export interface MeterBucketRow {
  start: Date;
  ac_kwh: number;
  meter_readings: number;
}

export interface VehicleBucketRow {
  start: Date;
  dc_kwh: number;
  vehicle_readings: number;
  battery_temp_sum: number | null;
}

const bucketStart = (bucket: BucketInterval) => sql<Date>`time_bucket(${bucket}::interval, u.ts)`.as('start');

/** AC figures per UTC-aligned bucket over the meters' parts of the window; only buckets with readings. */
export function findMeterSeries(
  db: Db,
  parts: readonly MeterPart[],
  bucket: BucketInterval,
): Promise<MeterBucketRow[]> {
  return db
    .selectFrom(meterRows(db, parts))
    .select((e) => [
      bucketStart(bucket),
      e.fn.sum<number>('u.kwh').as('ac_kwh'),
      e.fn.sum<number>('u.readings').as('meter_readings'),
    ])
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
}

/** DC figures of one vehicle per UTC-aligned bucket; only buckets with readings. */
export function findVehicleSeries(
  db: Db,
  vehicleId: string,
  segments: readonly Segment[],
  bucket: BucketInterval,
): Promise<VehicleBucketRow[]> {
  return db
    .selectFrom(vehicleRows(db, segments, vehicleId))
    .select((e) => [
      bucketStart(bucket),
      e.fn.sum<number>('u.kwh').as('dc_kwh'),
      e.fn.sum<number>('u.readings').as('vehicle_readings'),
      e.fn.sum<number | null>('u.temp_sum').as('battery_temp_sum'),
    ])
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
}
