import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { FleetPage, FleetQuery } from './analytics.schema.js';
import { EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';
import { decodeFleetCursor, encodeFleetCursor, type FleetCursor } from './fleet-cursor.js';
import { findFleetPage } from './fleet.repository.js';
import { resolveWindow } from './requested-window.js';
import { readWindow } from './window-snapshot.js';

/** The first page takes window, sort and filter from the query; later pages from the cursor. */
function resolvePage(query: FleetQuery): Omit<FleetCursor, 'after'> & { after: FleetCursor['after'] | null } {
  if (query.cursor === undefined) {
    const { from, to } = resolveWindow(query);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      sort: query.sort ?? 'efficiency',
      belowThreshold: query.belowThreshold ?? false,
      after: null,
    };
  }
  const conflicting = (['from', 'to', 'sort', 'belowThreshold'] as const).filter((key) => query[key] !== undefined);
  if (conflicting.length > 0) {
    throw AppError.validation(
      conflicting.map((key) => ({
        path: `query.${key}`,
        message: 'must not be sent with a cursor: the cursor carries it',
      })),
    );
  }
  const cursor = decodeFleetCursor(query.cursor);
  // A cursor is client input like any other: its window obeys the same rules.
  resolveWindow({ from: new Date(cursor.from), to: new Date(cursor.to) });
  return cursor;
}

/** One page of the fleet's window figures, sorted and filtered in the database. */
export async function getFleetPage(db: Db, query: FleetQuery): Promise<FleetPage> {
  const page = resolvePage(query);
  const window = { from: new Date(page.from), to: new Date(page.to) };
  const rows = await readWindow(db, window, 'hourly', (trx, plan) =>
    findFleetPage(trx, {
      plan,
      sort: page.sort,
      threshold: EFFICIENCY_FAULT_THRESHOLD,
      belowOnly: page.belowThreshold,
      after: page.after,
      limit: query.limit + 1,
    }),
  );
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeFleetCursor({
          from: page.from,
          to: page.to,
          sort: page.sort,
          belowThreshold: page.belowThreshold,
          after: { key: last.sort_key, vehicleId: last.vehicle_id },
        })
      : null;
  return {
    window: { from: page.from, to: page.to },
    efficiencyThreshold: EFFICIENCY_FAULT_THRESHOLD,
    sort: page.sort,
    belowThreshold: page.belowThreshold,
    items: items.map((row) => ({
      vehicleId: row.vehicle_id,
      meterId: row.meter_id,
      ...energyFigures(row),
      live:
        row.live_ts === null
          ? null
          : {
              soc: row.live_soc ?? 0,
              batteryTemp: row.live_battery_temp ?? 0,
              kwhDeliveredDc: row.live_kwh_delivered_dc ?? 0,
              timestamp: row.live_ts.toISOString(),
            },
    })),
    nextCursor,
  };
}
