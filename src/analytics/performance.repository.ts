import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { EnergySums } from './energy-figures.js';
import { meterRows, vehicleRows, type MeterPart } from './energy-rows.js';
import type { Segment } from './window-plan.js';

export interface PerformanceRow extends EnergySums {
  soc_min: number | null;
  soc_max: number | null;
}

const zero = sql<number>`0`;

function meterTotals(db: Db, parts: readonly MeterPart[]) {
  return db
    .selectFrom(meterRows(db, parts))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), zero).as('ac_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), zero).as('meter_readings'),
    ]);
}

function vehicleTotals(db: Db, segments: readonly Segment[], vehicleId: string) {
  return db
    .selectFrom(vehicleRows(db, segments, vehicleId))
    .select((e) => [
      e.fn.coalesce(e.fn.sum<number>('u.kwh'), zero).as('dc_kwh'),
      e.fn.coalesce(e.fn.sum<number>('u.readings'), zero).as('vehicle_readings'),
      e.fn.sum<number | null>('u.temp_sum').as('battery_temp_sum'),
      e.fn.min<number | null>('u.soc_min').as('soc_min'),
      e.fn.max<number | null>('u.soc_max').as('soc_max'),
    ]);
}

/**
 * One statement: the AC figures of the meters' parts of the window (one part per
 * assignment, each read for its own meter and span) next to the vehicle's DC figures.
 */
export function selectPerformance(
  db: Db,
  vehicleId: string,
  vehicleSegments: readonly Segment[],
  meterParts: readonly MeterPart[],
) {
  return db
    .selectFrom([meterTotals(db, meterParts).as('ac'), vehicleTotals(db, vehicleSegments, vehicleId).as('dc')])
    .select([
      'ac.ac_kwh',
      'ac.meter_readings',
      'dc.dc_kwh',
      'dc.vehicle_readings',
      'dc.battery_temp_sum',
      'dc.soc_min',
      'dc.soc_max',
    ]);
}

export async function findPerformance(
  db: Db,
  vehicleId: string,
  vehicleSegments: readonly Segment[],
  meterParts: readonly MeterPart[],
): Promise<PerformanceRow> {
  return (await selectPerformance(db, vehicleId, vehicleSegments, meterParts).executeTakeFirst())!;
}
