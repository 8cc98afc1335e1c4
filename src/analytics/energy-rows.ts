import { sql, type ExpressionBuilder } from 'kysely';

import type { Database } from '../db/database.js';
import type { Segment } from './window-plan.js';

/**
 * The rows every analytics query aggregates: one per aggregate bucket or raw reading inside
 * a planned segment, all with the same columns, so sums and counts combine exactly.
 */
export interface MeterEnergyRow {
  meter_id: string;
  ts: Date;
  kwh: number;
  readings: number;
}

export interface VehicleEnergyRow {
  vehicle_id: string;
  ts: Date;
  kwh: number;
  readings: number;
  temp_sum: number;
  soc_min: number;
  soc_max: number;
}

/** Query scope with the vehicle-to-meter mapping aliased `m`. */
export type MappingScope = ExpressionBuilder<Database & { m: Database['vehicle_meter_mapping'] }, 'm'>;

/** 'mapped': only the device of the mapping row `m` in scope (lateral use); 'all': every device. */
export type DeviceScope = 'mapped' | 'all';

/** `(A UNION ALL B ...)`: Kysely parenthesizes each part, the whole needs its own pair. */
const unionAll = <Row>(parts: { compile(): unknown }[]) => sql<Row>`(${sql.join(parts, sql` UNION ALL `)})`;

function meterSegment(eb: MappingScope, segment: Segment, scope: DeviceScope) {
  const base =
    segment.source === 'raw'
      ? eb
          .selectFrom('meter_telemetry_history as r')
          .select(['r.meter_id', 'r.ts', 'r.kwh_consumed_ac as kwh', sql<number>`1::int8`.as('readings')])
          .where('r.ts', '>=', segment.from)
          .where('r.ts', '<', segment.to)
      : eb
          .selectFrom(segment.source === 'hourly' ? 'meter_telemetry_hourly as r' : 'meter_telemetry_15m as r')
          .select(['r.meter_id', 'r.bucket as ts', 'r.kwh_consumed_ac as kwh', 'r.readings'])
          .where('r.bucket', '>=', segment.from)
          .where('r.bucket', '<', segment.to);
  return scope === 'mapped' ? base.whereRef('r.meter_id', '=', 'm.meter_id') : base;
}

function vehicleSegment(eb: MappingScope, segment: Segment, scope: DeviceScope) {
  const base =
    segment.source === 'raw'
      ? eb
          .selectFrom('vehicle_telemetry_history as r')
          .select([
            'r.vehicle_id',
            'r.ts',
            'r.kwh_delivered_dc as kwh',
            sql<number>`1::int8`.as('readings'),
            'r.battery_temp as temp_sum',
            'r.soc as soc_min',
            'r.soc as soc_max',
          ])
          .where('r.ts', '>=', segment.from)
          .where('r.ts', '<', segment.to)
      : eb
          .selectFrom(segment.source === 'hourly' ? 'vehicle_telemetry_hourly as r' : 'vehicle_telemetry_15m as r')
          .select([
            'r.vehicle_id',
            'r.bucket as ts',
            'r.kwh_delivered_dc as kwh',
            'r.readings',
            'r.battery_temp_sum as temp_sum',
            'r.soc_min',
            'r.soc_max',
          ])
          .where('r.bucket', '>=', segment.from)
          .where('r.bucket', '<', segment.to);
  return scope === 'mapped' ? base.whereRef('r.vehicle_id', '=', 'm.vehicle_id') : base;
}

/**
 * AC rows of the planned window: aggregate buckets and raw readings. Every branch is
 * bounded by a time range inside the window (and by the meter when 'mapped'), so no scan
 * reaches beyond it.
 */
export function meterRows(eb: MappingScope, segments: readonly Segment[], scope: DeviceScope) {
  return unionAll<MeterEnergyRow>(segments.map((segment) => meterSegment(eb, segment, scope))).as('u');
}

/** DC rows of the planned window, split the same way as the AC side. */
export function vehicleRows(eb: MappingScope, segments: readonly Segment[], scope: DeviceScope) {
  return unionAll<VehicleEnergyRow>(segments.map((segment) => vehicleSegment(eb, segment, scope))).as('u');
}
