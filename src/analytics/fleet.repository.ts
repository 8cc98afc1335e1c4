import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { FleetSort } from './analytics.schema.js';
import { KWH_DECIMALS, type EnergySums } from './energy-figures.js';
import { meterRows, vehicleRows, type MeterPart } from './energy-rows.js';
import type { Segment } from './window-plan.js';

/** Where the previous page ended: the last row's sort key and id. */
export interface FleetPosition {
  key: number | null;
  vehicleId: string;
}

/** An assignment's part of the window, by the group of parts (spans) it was planned in. */
export interface FleetAssignment {
  vehicleId: string;
  meterId: string;
  group: number;
}

export interface FleetPageQuery {
  vehicleSegments: readonly Segment[];
  /** One part per distinct span of the assignments (most share the whole window). */
  meterParts: readonly MeterPart[];
  /** The assignments holding during the window: the fleet's vehicles. */
  assignments: readonly FleetAssignment[];
  sort: FleetSort;
  /** The efficiency fault threshold: 'flagged' sorting and the `belowOnly` filter use it. */
  threshold: number;
  /** Only vehicles whose DC/AC ratio is below the threshold (vehicles without AC energy excluded). */
  belowOnly: boolean;
  after: FleetPosition | null;
  limit: number;
}

export interface FleetRow extends EnergySums {
  vehicle_id: string;
  efficiency: number | null;
  sort_key: number | null;
  live_soc: number | null;
  live_battery_temp: number | null;
  live_kwh_delivered_dc: number | null;
  live_ts: Date | null;
}

/**
 * One ascending sort key per order, so one keyset condition serves them all. Keys are
 * rounded decimals (at most 13 significant digits), so they survive the trip through the
 * cursor's JSON number exactly and the next page starts exactly after the last row.
 * - efficiency: the ratio; -efficiency: its negation;
 * - flagged: low ratios first (lowest first), then implausible ones (most implausible
 *   first: 1 + 1/ratio lies in (1, 2) and falls as the ratio grows), then normal ones
 *   (1000 + ratio);
 * - vehicleId: no key (NULL for all), the id alone orders.
 * Vehicles without a ratio have a NULL key and come last in every order.
 */
function sortKey(sort: FleetSort, threshold: number) {
  switch (sort) {
    case 'efficiency':
      return sql<number | null>`f.efficiency`;
    case '-efficiency':
      return sql<number | null>`-f.efficiency`;
    case 'flagged':
      return sql<number | null>`CASE
        WHEN f.efficiency < ${threshold} THEN f.efficiency
        WHEN f.efficiency > 1 THEN round(1 + 1 / f.efficiency, 9)
        ELSE 1000 + f.efficiency END`;
    case 'vehicleId':
      return sql<number | null>`NULL::numeric`;
  }
}

/**
 * The whole fleet's window figures in one set-based statement: the AC and DC rows of the
 * window are aggregated per device (hash aggregates over the continuous aggregates, not one
 * lookup per vehicle), joined to the mapping and the live state, then filtered, sorted
 * and cut at the keyset position.
 */
export function fleetPageQuery(db: Db, query: FleetPageQuery) {
  const { assignments } = query;
  // The assignments as a row set (unnest: three bind parameters whatever the fleet's size).
  const assigned = <A extends string>(alias: A) =>
    sql<{ vehicle_id: string; meter_id: string; grp: number }>`(
      SELECT * FROM unnest(
        ${assignments.map((a) => a.vehicleId)}::text[],
        ${assignments.map((a) => a.meterId)}::text[],
        ${assignments.map((a) => a.group)}::int[]
      ) AS t (vehicle_id, meter_id, grp))`.as(alias);
  // Meter rows are summed per vehicle through the assignment whose part they were read for:
  // a reading counts for the vehicle its meter served at the reading's timestamp.
  const ac = db
    .selectFrom(meterRows(db, query.meterParts))
    .innerJoin(assigned('a'), (join) => join.onRef('a.meter_id', '=', 'u.meter_id').onRef('a.grp', '=', 'u.grp'))
    .select((e) => ['a.vehicle_id', e.fn.sum<number>('u.kwh').as('kwh'), e.fn.sum<number>('u.readings').as('readings')])
    .groupBy('a.vehicle_id');
  const dc = db
    .selectFrom(vehicleRows(db, query.vehicleSegments))
    .select((e) => [
      'u.vehicle_id',
      e.fn.sum<number>('u.kwh').as('kwh'),
      e.fn.sum<number>('u.readings').as('readings'),
      e.fn.sum<number>('u.temp_sum').as('temp_sum'),
    ])
    .groupBy('u.vehicle_id');
  const figures = db
    .selectFrom(db.selectFrom(assigned('m')).select('m.vehicle_id').distinct().as('m'))
    .leftJoin(ac.as('ac'), 'ac.vehicle_id', 'm.vehicle_id')
    .leftJoin(dc.as('dc'), 'dc.vehicle_id', 'm.vehicle_id')
    .leftJoin('vehicle_live as l', 'l.vehicle_id', 'm.vehicle_id')
    .select((e) => [
      'm.vehicle_id',
      e.fn.coalesce('ac.kwh', sql<number>`0`).as('ac_kwh'),
      e.fn.coalesce('ac.readings', sql<number>`0`).as('meter_readings'),
      e.fn.coalesce('dc.kwh', sql<number>`0`).as('dc_kwh'),
      e.fn.coalesce('dc.readings', sql<number>`0`).as('vehicle_readings'),
      sql<number | null>`dc.temp_sum`.as('battery_temp_sum'),
      // From the energies rounded as the API shows them (energy-figures.ts), so the filter, the
      // order and the status agree, and an AC sum too small to show has no ratio (no overflow).
      sql<number | null>`CASE WHEN round(ac.kwh::numeric, ${sql.lit(KWH_DECIMALS)}) > 0
        THEN round(round(coalesce(dc.kwh, 0)::numeric, ${sql.lit(KWH_DECIMALS)})
          / round(ac.kwh::numeric, ${sql.lit(KWH_DECIMALS)}), 6) END`.as('efficiency'),
      sql<number | null>`l.soc`.as('live_soc'),
      sql<number | null>`l.battery_temp`.as('live_battery_temp'),
      sql<number | null>`l.kwh_delivered_dc`.as('live_kwh_delivered_dc'),
      sql<Date | null>`l.ts`.as('live_ts'),
    ]);

  let page = db.selectFrom(figures.as('f')).selectAll('f').select(sortKey(query.sort, query.threshold).as('sort_key'));
  if (query.belowOnly) page = page.where('f.efficiency', '<', query.threshold);
  const after = query.after;
  const key = sortKey(query.sort, query.threshold);
  if (after) {
    page = page.where((eb) =>
      after.key === null
        ? eb.and([eb(key, 'is', null), eb('f.vehicle_id', '>', after.vehicleId)])
        : eb.or([
            eb(key, '>', after.key),
            eb.and([eb(key, '=', after.key), eb('f.vehicle_id', '>', after.vehicleId)]),
            eb(key, 'is', null),
          ]),
    );
  }
  return page
    .orderBy(key, (ob) => ob.asc().nullsLast())
    .orderBy('f.vehicle_id')
    .limit(query.limit);
}

export function findFleetPage(db: Db, query: FleetPageQuery): Promise<FleetRow[]> {
  return fleetPageQuery(db, query).execute();
}
