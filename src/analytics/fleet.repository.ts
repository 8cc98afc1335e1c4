import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Segment } from './analytics-window.js';
import { meterRows, vehicleRows } from './energy-rows.js';

export type FleetSort = 'efficiency' | '-efficiency' | 'vehicleId';

/** Where the previous page ended: the last row's sort key. */
export interface FleetPosition {
  efficiency: number | null;
  vehicleId: string;
}

export interface FleetPageQuery {
  segments: readonly Segment[];
  sort: FleetSort;
  /** Only vehicles whose DC/AC ratio is below this (vehicles without AC energy excluded). */
  below: number | null;
  after: FleetPosition | null;
  limit: number;
}

export interface FleetRow {
  vehicle_id: string;
  meter_id: string;
  ac_kwh: number;
  meter_readings: number;
  dc_kwh: number;
  vehicle_readings: number;
  battery_temp_sum: number | null;
  efficiency: number | null;
  live_soc: number | null;
  live_battery_temp: number | null;
  live_kwh_delivered_dc: number | null;
  live_ts: Date | null;
}

/**
 * The whole fleet's window figures in one set-based statement: the AC and DC rows of the
 * window are aggregated per device (hash aggregates over the continuous aggregates, not one
 * lookup per vehicle), joined to the mapping and the live state, then filtered, sorted
 * and cut at the keyset position. Vehicles without a ratio sort last in both directions.
 */
export function fleetPageQuery(db: Db, query: FleetPageQuery) {
  const { segments } = query;
  const figures = db
    .selectFrom('vehicle_meter_mapping as m')
    // Lateral only for the typed scope: neither subquery refers to `m`, so the planner
    // treats them as plain subqueries aggregated once and hash-joined.
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom(meterRows(eb, segments, 'all'))
          .select((e) => ['u.meter_id', e.fn.sum<number>('u.kwh').as('kwh'), e.fn.sum<number>('u.readings').as('readings')])
          .groupBy('u.meter_id')
          .as('ac'),
      (join) => join.onRef('ac.meter_id', '=', 'm.meter_id'),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom(vehicleRows(eb, segments, 'all'))
          .select((e) => [
            'u.vehicle_id',
            e.fn.sum<number>('u.kwh').as('kwh'),
            e.fn.sum<number>('u.readings').as('readings'),
            e.fn.sum<number>('u.temp_sum').as('temp_sum'),
          ])
          .groupBy('u.vehicle_id')
          .as('dc'),
      (join) => join.onRef('dc.vehicle_id', '=', 'm.vehicle_id'),
    )
    .leftJoin('vehicle_live as l', 'l.vehicle_id', 'm.vehicle_id')
    .select((e) => [
      'm.vehicle_id',
      'm.meter_id',
      e.fn.coalesce('ac.kwh', sql<number>`0`).as('ac_kwh'),
      e.fn.coalesce('ac.readings', sql<number>`0`).as('meter_readings'),
      e.fn.coalesce('dc.kwh', sql<number>`0`).as('dc_kwh'),
      e.fn.coalesce('dc.readings', sql<number>`0`).as('vehicle_readings'),
      sql<number | null>`dc.temp_sum`.as('battery_temp_sum'),
      sql<number | null>`CASE WHEN ac.kwh > 0 THEN coalesce(dc.kwh, 0) / ac.kwh END`.as('efficiency'),
      sql<number | null>`l.soc`.as('live_soc'),
      sql<number | null>`l.battery_temp`.as('live_battery_temp'),
      sql<number | null>`l.kwh_delivered_dc`.as('live_kwh_delivered_dc'),
      sql<Date | null>`l.ts`.as('live_ts'),
    ]);

  let page = db.selectFrom(figures.as('f')).selectAll('f');
  if (query.below !== null) page = page.where('f.efficiency', '<', query.below);

  const after = query.after;
  if (query.sort === 'vehicleId') {
    if (after) page = page.where('f.vehicle_id', '>', after.vehicleId);
    return page.orderBy('f.vehicle_id').limit(query.limit);
  }

  const ascending = query.sort === 'efficiency';
  if (after) {
    page = page.where((eb) => {
      if (after.efficiency === null) {
        return eb.and([eb('f.efficiency', 'is', null), eb('f.vehicle_id', '>', after.vehicleId)]);
      }
      return eb.or([
        eb('f.efficiency', ascending ? '>' : '<', after.efficiency),
        eb.and([eb('f.efficiency', '=', after.efficiency), eb('f.vehicle_id', '>', after.vehicleId)]),
        eb('f.efficiency', 'is', null),
      ]);
    });
  }
  return page
    .orderBy('f.efficiency', (ob) => (ascending ? ob.asc() : ob.desc()).nullsLast())
    .orderBy('f.vehicle_id')
    .limit(query.limit);
}

export function findFleetPage(db: Db, query: FleetPageQuery): Promise<FleetRow[]> {
  return fleetPageQuery(db, query).execute();
}
