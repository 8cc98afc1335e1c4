import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { meterRows, vehicleRows } from './energy-rows.js';
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

/** AC figures per UTC-aligned bucket, only buckets that have readings. */
export function findMeterSeries(db: Db, vehicleId: string, segments: readonly Segment[], bucket: BucketInterval) {
  return db
    .selectFrom('vehicle_meter_mapping as m')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom(meterRows(eb, segments, 'mapped'))
          .select((e) => [
            sql<Date>`time_bucket(${bucket}::interval, u.ts)`.as('start'),
            e.fn.sum<number>('u.kwh').as('ac_kwh'),
            e.fn.sum<number>('u.readings').as('meter_readings'),
          ])
          .groupBy(sql`1`)
          .as('s'),
      (join) => join.onTrue(),
    )
    .select(['s.start', 's.ac_kwh', 's.meter_readings'])
    .where('m.vehicle_id', '=', vehicleId)
    .orderBy('s.start')
    .execute() satisfies Promise<MeterBucketRow[]>;
}

/** DC figures per UTC-aligned bucket, only buckets that have readings. */
export function findVehicleSeries(db: Db, vehicleId: string, segments: readonly Segment[], bucket: BucketInterval) {
  return db
    .selectFrom('vehicle_meter_mapping as m')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom(vehicleRows(eb, segments, 'mapped'))
          .select((e) => [
            sql<Date>`time_bucket(${bucket}::interval, u.ts)`.as('start'),
            e.fn.sum<number>('u.kwh').as('dc_kwh'),
            e.fn.sum<number>('u.readings').as('vehicle_readings'),
            e.fn.sum<number | null>('u.temp_sum').as('battery_temp_sum'),
          ])
          .groupBy(sql`1`)
          .as('s'),
      (join) => join.onTrue(),
    )
    .select(['s.start', 's.dc_kwh', 's.vehicle_readings', 's.battery_temp_sum'])
    .where('m.vehicle_id', '=', vehicleId)
    .orderBy('s.start')
    .execute() satisfies Promise<VehicleBucketRow[]>;
}
