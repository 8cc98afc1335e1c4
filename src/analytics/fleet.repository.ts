import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { EfficiencyStatus, FleetSort } from './analytics.schema.js';
import { KWH_DECIMALS, MIN_JUDGED_NANO, RATIO_DECIMALS, THRESHOLD_MICRO } from './efficiency-rule.js';
import type { EnergySums } from './energy-figures.js';
import { meterSums, vehicleSums, type MeterPart } from './energy-rows.js';
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
  /** Only vehicles whose status is `low` (efficiency-rule.ts). */
  belowOnly: boolean;
  after: FleetPosition | null;
  limit: number;
}

export interface FleetRow extends EnergySums {
  vehicle_id: string;
  /** The ratio and status of efficiency-rule.ts, computed here once for the filter, the sort and the row. */
  efficiency: number | null;
  efficiency_status: EfficiencyStatus;
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
 * - flagged, by the row's status: low first (lowest first), then implausible ones (most
 *   implausible first: 1 + 1/ratio lies in (1, 2) and falls as the ratio grows), then
 *   normal ones (1000 + ratio), then those with too little charging to judge (2000 + ratio);
 * - vehicleId: no key (NULL for all), the id alone orders.
 * Vehicles without a ratio have a NULL key and come last in every order.
 */
function sortKey(sort: FleetSort) {
  switch (sort) {
    case 'efficiency':
      return sql<number | null>`f.efficiency`;
    case '-efficiency':
      return sql<number | null>`-f.efficiency`;
    case 'flagged':
      return sql<number | null>`CASE f.efficiency_status
        WHEN 'low' THEN f.efficiency
        WHEN 'implausible' THEN round(1 + 1 / f.efficiency, 9)
        WHEN 'normal' THEN 1000 + f.efficiency
        WHEN 'insufficient_data' THEN 2000 + f.efficiency END`;
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
  // a reading counts for the vehicle its meter served at the reading's timestamp. They come
  // summed per meter and part (energy-rows.ts, `meterSums`), so the join meets one row per
  // (meter, part) instead of every reading: joining the readings made the planner sort them
  // all for a merge join, half of a page's time on a server (docs/benchmarks.md).
  const perMeter = db
    .selectFrom(meterSums(db, query.meterParts))
    .select((e) => [
      'u.meter_id',
      'u.grp',
      e.fn.sum<number>('u.kwh').as('kwh'),
      e.fn.sum<number>('u.readings').as('readings'),
    ])
    .groupBy(['u.meter_id', 'u.grp']);
  const ac = db
    .selectFrom(perMeter.as('s'))
    .innerJoin(assigned('a'), (join) => join.onRef('a.meter_id', '=', 's.meter_id').onRef('a.grp', '=', 's.grp'))
    .select((e) => ['a.vehicle_id', e.fn.sum<number>('s.kwh').as('kwh'), e.fn.sum<number>('s.readings').as('readings')])
    .groupBy('a.vehicle_id');
  const dc = db
    .selectFrom(vehicleSums(db, query.vehicleSegments))
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
      // Step 1 of efficiency-rule.ts: the energies as shown, in nano-kWh (exact numerics).
      sql<number>`round(coalesce(ac.kwh, 0)::numeric, ${sql.lit(KWH_DECIMALS)}) * ${sql.lit(10 ** KWH_DECIMALS)}`.as(
        'ac_nano',
      ),
      sql<number>`round(coalesce(dc.kwh, 0)::numeric, ${sql.lit(KWH_DECIMALS)}) * ${sql.lit(10 ** KWH_DECIMALS)}`.as(
        'dc_nano',
      ),
      sql<number | null>`l.soc`.as('live_soc'),
      sql<number | null>`l.battery_temp`.as('live_battery_temp'),
      sql<number | null>`l.kwh_delivered_dc`.as('live_kwh_delivered_dc'),
      sql<Date | null>`l.ts`.as('live_ts'),
    ]);

  // Step 2: the ratio in millionths, rounded half up with integer arithmetic (none without AC).
  const micro = 10 ** RATIO_DECIMALS;
  const ratios = db
    .selectFrom(figures.as('e'))
    .selectAll('e')
    .select(
      sql<number | null>`CASE WHEN e.ac_nano > 0
        THEN div(${sql.lit(2 * micro)} * e.dc_nano + e.ac_nano, 2 * e.ac_nano) END`.as('ratio_micro'),
    );
  // Step 3: the status; the filter, the sort keys and the row all read these two columns.
  const rated = db
    .selectFrom(ratios.as('r'))
    .selectAll('r')
    .select([
      sql<number | null>`r.ratio_micro / ${sql.lit(micro)}`.as('efficiency'),
      sql<EfficiencyStatus>`CASE
        WHEN r.ratio_micro IS NULL THEN 'no_data'
        WHEN r.ac_nano < ${sql.lit(Number(MIN_JUDGED_NANO))} AND r.dc_nano < ${sql.lit(Number(MIN_JUDGED_NANO))}
          THEN 'insufficient_data'
        WHEN r.ratio_micro > ${sql.lit(micro)} THEN 'implausible'
        WHEN r.ratio_micro < ${sql.lit(Number(THRESHOLD_MICRO))} THEN 'low'
        ELSE 'normal' END`.as('efficiency_status'),
    ]);

  let page = db.selectFrom(rated.as('f')).selectAll('f').select(sortKey(query.sort).as('sort_key'));
  if (query.belowOnly) page = page.where('f.efficiency_status', '=', 'low');
  const after = query.after;
  const key = sortKey(query.sort);
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
