import type { Db } from '../db/database.js';
import type { assignmentsOfVehicleQuery, Assignment } from '../mapping/mapping.repository.js';
import { END_OF_TIME, START_OF_TIME } from '../time.js';
import type { MeterPart } from './energy-rows.js';
import type { Window } from './requested-window.js';
import type { Alongside, WindowPlanner } from './window-snapshot.js';

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

/** A vehicle's assignments as JSON (window-snapshot.ts, Alongside): the instants back to Dates. */
interface AssignmentJson {
  id: number;
  vehicle_id: string;
  meter_id: string;
  valid_from: string;
  valid_to: string;
  created_at: string;
}
const instant = (text: string) =>
  text === 'infinity' ? END_OF_TIME : text === '-infinity' ? START_OF_TIME : new Date(text);

/**
 * Assignments read in the bookkeeping's statement (window-snapshot.ts), oldest first: a
 * vehicle's, or those overlapping an interval (the fleet's).
 */
export function assignmentsAlongside(
  query: (trx: Db) => ReturnType<typeof assignmentsOfVehicleQuery>,
): Alongside<Assignment> {
  return {
    query,
    parse: (row) => {
      const a = row as AssignmentJson;
      return {
        ...a,
        valid_from: instant(a.valid_from),
        valid_to: instant(a.valid_to),
        created_at: instant(a.created_at),
      };
    },
    // json_agg keeps the rows' order in practice, but nothing promises it.
    sort: (rows) => rows.sort((a, b) => a.valid_from.getTime() - b.valid_from.getTime()),
  };
}

/**
 * For the window, the meter parts of one vehicle's assignments (read in the caller's
 * snapshot): one per assignment span, each for its own meter.
 */
export function vehicleMeterParts(assignments: readonly Assignment[], window: Window, planner: WindowPlanner) {
  const spans = spansInWindow(assignments, window);
  const parts: MeterPart[] = spans.map((span, group) => ({
    segments: planner.meter(toInterval(span)),
    meterIds: [span.meterId],
    group,
  }));
  return { assignments, spans, parts };
}
