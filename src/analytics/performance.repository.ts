import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { EnergySums } from './energy-figures.js';
import { meterRows, vehicleRows, type DeviceScope, type MappingScope } from './energy-rows.js';
import type { Segment, WindowPlan } from './window-plan.js';

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
export function selectPerformance(db: Db, vehicleId: string, plan: WindowPlan) {
  return db
    .selectFrom('vehicle_meter_mapping as m')
    .innerJoinLateral(
      (eb) => meterTotals(eb, plan.meter, 'mapped').as('ac'),
      (join) => join.onTrue(),
    )
    .innerJoinLateral(
      (eb) => vehicleTotals(eb, plan.vehicle, 'mapped').as('dc'),
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
  return selectPerformance(db, vehicleId, plan).executeTakeFirst();
}
