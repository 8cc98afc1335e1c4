import { sql } from 'kysely';

import type { Db } from '../db/database.js';
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
  /** Which part of the request the row belongs to (MeterPart.group). */
  grp: number;
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

/**
 * Meter rows of one span of the window (an assignment's): its segments, only the given
 * meters (all of them when `meterIds` is absent), tagged with `group`.
 */
export interface MeterPart {
  segments: readonly Segment[];
  meterIds?: readonly string[];
  group: number;
}

/** `(A UNION ALL B ...)`: Kysely parenthesizes each part, the whole needs its own pair. */
const unionAll = <Row>(parts: { compile(): unknown }[]) => sql<Row>`(${sql.join(parts, sql` UNION ALL `)})`;

/** An empty row set of the same shape, for a window part with nothing to read. */
const noMeterRows = sql<MeterEnergyRow>`(SELECT NULL::text AS meter_id, NULL::timestamptz AS ts,
  0::float8 AS kwh, 0::int8 AS readings, 0 AS grp WHERE false)`;

function meterSegment(db: Db, segment: Segment, part: MeterPart) {
  const grp = sql<number>`${sql.lit(part.group)}::int`.as('grp');
  const base =
    segment.source === 'raw'
      ? db
          .selectFrom('meter_telemetry_history as r')
          .select(['r.meter_id', 'r.ts', 'r.kwh_consumed_ac as kwh', sql<number>`1::int8`.as('readings'), grp])
          .where('r.ts', '>=', segment.from)
          .where('r.ts', '<', segment.to)
      : db
          .selectFrom(segment.source === 'hourly' ? 'meter_telemetry_hourly as r' : 'meter_telemetry_15m as r')
          .select(['r.meter_id', 'r.bucket as ts', 'r.kwh_consumed_ac as kwh', 'r.readings', grp])
          .where('r.bucket', '>=', segment.from)
          .where('r.bucket', '<', segment.to);
  const ids = part.meterIds;
  if (ids === undefined) return base;
  return ids.length === 1 ? base.where('r.meter_id', '=', ids[0]!) : base.where('r.meter_id', 'in', [...ids]);
}

function vehicleSegment(db: Db, segment: Segment, vehicleId: string | undefined) {
  const base =
    segment.source === 'raw'
      ? db
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
      : db
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
  return vehicleId === undefined ? base : base.where('r.vehicle_id', '=', vehicleId);
}

/**
 * AC rows of the planned parts: aggregate buckets and raw readings. Every branch is bounded
 * by a time range inside its part (and by its meters when given), so no scan reaches beyond
 * it; a reading counts for the part (the assignment) whose span holds its timestamp.
 */
export function meterRows(db: Db, parts: readonly MeterPart[]) {
  const branches = parts.flatMap((part) => part.segments.map((segment) => meterSegment(db, segment, part)));
  return (branches.length === 0 ? noMeterRows : unionAll<MeterEnergyRow>(branches)).as('u');
}

/** DC rows of the window, of one vehicle or of all. */
export function vehicleRows(db: Db, segments: readonly Segment[], vehicleId?: string) {
  return unionAll<VehicleEnergyRow>(segments.map((segment) => vehicleSegment(db, segment, vehicleId))).as('u');
}

export interface MeterSumRow {
  meter_id: string;
  grp: number;
  kwh: number;
  readings: number;
}

export interface VehicleSumRow {
  vehicle_id: string;
  kwh: number;
  readings: number;
  temp_sum: number | null;
}

const noMeterSums = sql<MeterSumRow>`(SELECT NULL::text AS meter_id, 0 AS grp, 0::float8 AS kwh,
  0::numeric AS readings WHERE false)`;

/**
 * The rows of `meterRows`, summed per meter and part inside each branch (one row per meter,
 * part and segment): for figures per device, where the rows themselves are not needed. A
 * reading then never travels beyond the scan that read it, which on a server was most of a
 * fleet page's time (the hour above the watermark is 60,000 raw rows a stream at 1,000
 * vehicles; docs/benchmarks.md). Sum them again per device: a device has a row per segment.
 */
export function meterSums(db: Db, parts: readonly MeterPart[]) {
  const branches = parts.flatMap((part) =>
    part.segments.map((segment) =>
      db
        .selectFrom(meterSegment(db, segment, part).as('b'))
        .select((e) => [
          'b.meter_id',
          'b.grp',
          e.fn.sum<number>('b.kwh').as('kwh'),
          e.fn.sum<number>('b.readings').as('readings'),
        ])
        .groupBy(['b.meter_id', 'b.grp']),
    ),
  );
  return (branches.length === 0 ? noMeterSums : unionAll<MeterSumRow>(branches)).as('u');
}

/** The rows of `vehicleRows` (all vehicles), summed per vehicle inside each branch (see `meterSums`). */
export function vehicleSums(db: Db, segments: readonly Segment[]) {
  return unionAll<VehicleSumRow>(
    segments.map((segment) =>
      db
        .selectFrom(vehicleSegment(db, segment, undefined).as('b'))
        .select((e) => [
          'b.vehicle_id',
          e.fn.sum<number>('b.kwh').as('kwh'),
          e.fn.sum<number>('b.readings').as('readings'),
          e.fn.sum<number | null>('b.temp_sum').as('temp_sum'),
        ])
        .groupBy('b.vehicle_id'),
    ),
  ).as('u');
}
