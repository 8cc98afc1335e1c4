import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import { findAssignmentsOverlapping } from '../mapping/mapping.repository.js';
import type { FleetPage, FleetQuery } from './analytics.schema.js';
import { EFFICIENCY_FAULT_THRESHOLD, energyFigures } from './energy-figures.js';
import { decodeFleetCursor, encodeFleetCursor, type FleetCursor } from './fleet-cursor.js';
import { findFleetPage, type FleetAssignment } from './fleet.repository.js';
import { latestMeter, spansInWindow, spansJson, toInterval, type MeterSpan } from './meter-spans.js';
import { resolveWindow, type Window, windowsJson } from './requested-window.js';
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

/**
 * The fleet's assignments during the window, grouped by the span they cover: one group (one
 * plan) per distinct span. Most assignments hold over the whole window and share a group read
 * for every meter at once; a vehicle that moved during the window adds small groups read for
 * its meters only.
 */
function groupBySpan(spans: readonly { vehicleId: string; span: MeterSpan }[], window: Window) {
  const groups = new Map<string, { span: MeterSpan; meterIds: string[]; group: number }>();
  const assignments: FleetAssignment[] = [];
  for (const { vehicleId, span } of spans) {
    const key = `${span.from.getTime()}-${span.to.getTime()}`;
    let group = groups.get(key);
    if (!group) {
      group = { span, meterIds: [], group: groups.size };
      groups.set(key, group);
    }
    group.meterIds.push(span.meterId);
    assignments.push({ vehicleId, meterId: span.meterId, group: group.group });
  }
  const whole = (span: MeterSpan) =>
    span.from.getTime() === window.from.getTime() && span.to.getTime() === window.to.getTime();
  return { groups: [...groups.values()].map((g) => ({ ...g, whole: whole(g.span) })), assignments };
}

/** One page of the fleet's window figures, sorted and filtered in the database. */
export async function getFleetPage(db: Db, query: FleetQuery): Promise<FleetPage> {
  const page = resolvePage(query);
  const requested = { from: new Date(page.from), to: new Date(page.to) };
  const { rows, spansOf, window } = await readWindow(db, requested, 'hourly', async (trx, planner, window) => {
    const spansOf = new Map<string, MeterSpan[]>();
    for (const a of await findAssignmentsOverlapping(trx, { from: window.from.getTime(), to: window.to.getTime() })) {
      spansOf.set(a.vehicle_id, [...(spansOf.get(a.vehicle_id) ?? []), ...spansInWindow([a], window)]);
    }
    const { groups, assignments } = groupBySpan(
      [...spansOf].flatMap(([vehicleId, spans]) => spans.map((span) => ({ vehicleId, span }))),
      window,
    );
    const rows = await findFleetPage(trx, {
      vehicleSegments: planner.vehicle,
      // The whole-window group reads every meter (cheaper than a list of thousands); the
      // join to the assignments keeps each meter's rows for its own vehicle and span only.
      meterParts: groups.map((g) => ({
        segments: planner.meter(toInterval(g.span)),
        group: g.group,
        ...(g.whole ? {} : { meterIds: g.meterIds }),
      })),
      assignments,
      sort: page.sort,
      belowOnly: page.belowThreshold,
      after: page.after,
      limit: query.limit + 1,
    });
    return { rows, spansOf, window };
  });
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
    ...windowsJson(requested, window),
    efficiencyThreshold: EFFICIENCY_FAULT_THRESHOLD,
    sort: page.sort,
    belowThreshold: page.belowThreshold,
    items: items.map((row) => ({
      vehicleId: row.vehicle_id,
      meterId: latestMeter(spansOf.get(row.vehicle_id) ?? []),
      meters: spansJson(spansOf.get(row.vehicle_id) ?? []),
      ...energyFigures(row),
      // Shown as the query filtered and sorted by: computed once, in the database.
      efficiencyRatio: row.efficiency,
      efficiencyStatus: row.efficiency_status,
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
