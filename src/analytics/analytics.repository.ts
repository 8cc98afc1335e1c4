import { sql, type ExpressionBuilder } from 'kysely';
import type { Database, Db } from '../db/database.js';
import type { TimeRange, WindowPlan } from './analytics-window.js';

export interface PerformanceRow {
  vehicle_id: string;
  meter_id: string;
  ac_kwh: number;
  meter_readings: number;
  dc_kwh: number;
  vehicle_readings: number;
  battery_temp_sum: number | null;
  soc_min: number | null;
  soc_max: number | null;
}

type MappingScope = ExpressionBuilder<Database & { m: Database['vehicle_meter_mapping'] }, 'm'>;

/**
 * AC side of one window for the mapped meter: whole hours from `meter_telemetry_hourly`,
 * the edges from `meter_telemetry_history`. Every branch is bounded by the meter and by a
 * time range inside the window, so no scan reaches beyond it.
 */
function meterFigures(eb: MappingScope, plan: WindowPlan) {
  const raw = (range: TimeRange) =>
    eb
      .selectFrom('meter_telemetry_history as r')
      .select(['r.kwh_consumed_ac as kwh', sql<number>`1::int8`.as('readings')])
      .whereRef('r.meter_id', '=', 'm.meter_id')
      .where('r.ts', '>=', range.from)
      .where('r.ts', '<', range.to);
  const hourly = eb
    .selectFrom('meter_telemetry_hourly as h')
    .select(['h.kwh_consumed_ac as kwh', 'h.readings'])
    .whereRef('h.meter_id', '=', 'm.meter_id')
    .where('h.bucket', '>=', plan.buckets.from)
    .where('h.bucket', '<', plan.buckets.to);
  return eb
    .selectFrom(hourly.unionAll(raw(plan.head)).unionAll(raw(plan.tail)).as('u'))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), sql<number>`0`).as('ac_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), sql<number>`0`).as('meter_readings'),
    ]);
}

/** DC side of one window for the vehicle, split the same way as the AC side. */
function vehicleFigures(eb: MappingScope, plan: WindowPlan) {
  const raw = (range: TimeRange) =>
    eb
      .selectFrom('vehicle_telemetry_history as r')
      .select([
        'r.kwh_delivered_dc as kwh',
        sql<number>`1::int8`.as('readings'),
        'r.battery_temp as temp_sum',
        'r.soc as soc_min',
        'r.soc as soc_max',
      ])
      .whereRef('r.vehicle_id', '=', 'm.vehicle_id')
      .where('r.ts', '>=', range.from)
      .where('r.ts', '<', range.to);
  const hourly = eb
    .selectFrom('vehicle_telemetry_hourly as h')
    .select(['h.kwh_delivered_dc as kwh', 'h.readings', 'h.battery_temp_sum as temp_sum', 'h.soc_min', 'h.soc_max'])
    .whereRef('h.vehicle_id', '=', 'm.vehicle_id')
    .where('h.bucket', '>=', plan.buckets.from)
    .where('h.bucket', '<', plan.buckets.to);
  return eb
    .selectFrom(hourly.unionAll(raw(plan.head)).unionAll(raw(plan.tail)).as('u'))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), sql<number>`0`).as('dc_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), sql<number>`0`).as('vehicle_readings'),
      e.fn.sum<number | null>('u.temp_sum').as('battery_temp_sum'),
      e.fn.min<number | null>('u.soc_min').as('soc_min'),
      e.fn.max<number | null>('u.soc_max').as('soc_max'),
    ]);
}

/**
 * One statement: the vehicle's mapping joined laterally to the AC and DC figures of the
 * window. Undefined when the vehicle has no mapping.
 */
export function performanceQuery(db: Db, vehicleId: string, plan: WindowPlan) {
  return db
    .selectFrom('vehicle_meter_mapping as m')
    .innerJoinLateral(
      (eb) => meterFigures(eb, plan).as('ac'),
      (join) => join.onTrue(),
    )
    .innerJoinLateral(
      (eb) => vehicleFigures(eb, plan).as('dc'),
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

export function findPerformance(db: Db, vehicleId: string, plan: WindowPlan): Promise<PerformanceRow | undefined> {
  return performanceQuery(db, vehicleId, plan).executeTakeFirst();
}
