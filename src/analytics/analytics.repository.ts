import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { Segment } from './analytics-window.js';
import type { EnergySums } from './energy-figures.js';
import { meterRows, vehicleRows, type DeviceScope, type MappingScope } from './energy-rows.js';

/** A mapped vehicle's window sums (see EnergySums). */
export interface VehicleEnergySums extends EnergySums {
  vehicle_id: string;
  meter_id: string;
}

export interface PerformanceRow extends VehicleEnergySums {
  soc_min: number | null;
  soc_max: number | null;
}

const zero = sql<number>`0`;

function meterTotals(eb: MappingScope, segments: readonly Segment[], scope: DeviceScope) {
  return eb
    .selectFrom(meterRows(eb, segments, scope))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), zero).as('ac_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), zero).as('meter_readings'),
    ]);
}

function vehicleTotals(eb: MappingScope, segments: readonly Segment[], scope: DeviceScope) {
  return eb
    .selectFrom(vehicleRows(eb, segments, scope))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), zero).as('dc_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), zero).as('vehicle_readings'),
      e.fn.sum<number | null>('u.temp_sum').as('battery_temp_sum'),
      e.fn.min<number | null>('u.soc_min').as('soc_min'),
      e.fn.max<number | null>('u.soc_max').as('soc_max'),
    ]);
}

/**
 * One statement: the vehicle's mapping joined laterally to the AC and DC figures of the
 * window. Undefined when the vehicle has no mapping.
 */
export function performanceQuery(db: Db, vehicleId: string, segments: readonly Segment[]) {
  return db
    .selectFrom('vehicle_meter_mapping as m')
    .innerJoinLateral(
      (eb) => meterTotals(eb, segments, 'mapped').as('ac'),
      (join) => join.onTrue(),
    )
    .innerJoinLateral(
      (eb) => vehicleTotals(eb, segments, 'mapped').as('dc'),
      (join) => join.onTrue(),
    )
    .select([
      'm.vehicle_id',
      'm.meter_id',
      'ac.ac_kwh',
      'ac.meter_readings',
      'dc.dc_kwh',
      'dc.vehicle_readings',
      'dc.battery_temp_sum',
      'dc.soc_min',
      'dc.soc_max',
    ])
    .where('m.vehicle_id', '=', vehicleId);
}

export function findPerformance(
  db: Db,
  vehicleId: string,
  segments: readonly Segment[],
): Promise<PerformanceRow | undefined> {
  return performanceQuery(db, vehicleId, segments).executeTakeFirst();
}

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
