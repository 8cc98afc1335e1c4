import type { Db } from '../db/database.js';
import { findAssignmentsOfVehicle, type Assignment } from '../mapping/mapping.repository.js';
import type { MeterPart } from './energy-rows.js';
import type { Window } from './requested-window.js';
import type { WindowPlanner } from './window-snapshot.js';

/** The part of a window during which one meter measured a vehicle's AC side. */
export interface MeterSpan {
  meterId: string;
  from: Date;
  to: Date;
}

/**
 * The assignments' parts of the window, clipped to it, in time order. Assignments never
 * overlap for one vehicle (a database constraint), so neither do the spans.
 */
export function spansInWindow(assignments: readonly Assignment[], window: Window): MeterSpan[] {
  return assignments
    .filter((a) => a.valid_from < window.to && a.valid_to > window.from)
    .map((a) => ({
      meterId: a.meter_id,
      from: a.valid_from > window.from ? a.valid_from : window.from,
      to: a.valid_to < window.to ? a.valid_to : window.to,
    }))
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** How the response names the spans: the meters and the intervals they contributed. */
export const spansJson = (spans: readonly MeterSpan[]) =>
  spans.map((s) => ({ meterId: s.meterId, from: s.from.toISOString(), to: s.to.toISOString() }));

/** The meter of the latest span (the one measuring at the window's end, if any). */
export const latestMeter = (spans: readonly MeterSpan[]) => spans.at(-1)?.meterId ?? null;

export const toInterval = (span: MeterSpan) => ({ from: span.from.getTime(), to: span.to.getTime() });

/**
 * One vehicle's assignments and, for the window, the meter parts to read: one per
 * assignment span, each for its own meter (inside the caller's snapshot).
 */
export async function vehicleMeterParts(db: Db, vehicleId: string, window: Window, planner: WindowPlanner) {
  const assignments = await findAssignmentsOfVehicle(db, vehicleId);
  const spans = spansInWindow(assignments, window);
  const parts: MeterPart[] = spans.map((span, group) => ({
    segments: planner.meter(toInterval(span)),
    meterIds: [span.meterId],
    group,
  }));
  return { assignments, spans, parts };
}
