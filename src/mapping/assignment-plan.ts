import { END_OF_TIME, START_OF_TIME } from '../time.js';
import type { Assignment } from './mapping.repository.js';

/** One "from this instant on, this vehicle draws from this meter". */
export interface AssignmentRequest {
  vehicleId: string;
  meterId: string;
  /** Unset: now for a vehicle that has an assignment, since its meter was free for a first one. */
  from?: Date | undefined;
}

/** A request whose start is decided. */
export interface DatedRequest {
  vehicleId: string;
  meterId: string;
  from: Date;
}

/** An entry of the batch (its index in the request) and its request. */
export interface Entry<R> {
  entry: number;
  request: R;
}

/** Why an entry is refused. */
export type AssignmentConflict =
  /** The vehicle has an assignment starting at or after `from`: a correction of the past, not a move. */
  | { entry: number; kind: 'later_assignment'; assignment: Assignment }
  /** The meter serves another vehicle at or after `from`. */
  | { entry: number; kind: 'meter_in_use'; assignment: Assignment }
  /** An earlier entry of the same batch (`otherEntry`, the last one before) claims the meter too. */
  | { entry: number; kind: 'meter_listed_twice'; meterId: string; otherEntry: number };

/** Step 1: what the batch does to the listed vehicles' assignments. */
export interface MovePlan {
  /** Non-empty: the batch is refused, nothing is written. */
  conflicts: AssignmentConflict[];
  /** The assignments in force at a move's `from`, closed there. */
  close: { assignment: Assignment; at: Date }[];
  /** The entries whose start is known already: moves, and first assignments that name `from`. */
  dated: Entry<DatedRequest>[];
  /** First assignments without `from`: they start where their meter is free after the moves (step 2). */
  sinceFree: Entry<AssignmentRequest>[];
  /** Entries that hold already: the same meter, open-ended, since `from` or earlier (a repeated request). */
  unchanged: number;
}

/**
 * A batch of assignments, planned in three pure steps around the reads of its transaction
 * (assignment.service.ts `assignMeters`), so that it means the same as its changes applied
 * one after another: first the moves, then the first assignments, each in the order listed.
 *
 * 1. `planMoves`, from every assignment of the listed vehicles: each entry holds already
 *    (unchanged), is refused (a later assignment), is a first assignment without `from`
 *    (step 2), or starts at its `from` (now when unset), closing the assignment in force
 *    there. The moves happen at once: every one is closed before any meter is checked,
 *    which lets vehicles swap meters.
 * 2. `startFirstAssignments`, after the closes, from every assignment of the meters the
 *    first assignments without `from` name: each starts where its meter was last freed by
 *    now (the beginning for a meter never assigned), so history sent before the vehicle was
 *    mapped is attributed, and ev-42 leaving meter-18 now while ev-43 takes it starts ev-43
 *    now, as two single calls do.
 * 3. `meterConflicts`, from the uses of the meters at or after each start: a meter still in
 *    use belongs to someone else, and two entries may not claim one meter.
 */
export function planMoves(
  wanted: readonly AssignmentRequest[],
  vehicleRows: readonly Assignment[],
  now: Date,
): MovePlan {
  const byVehicle = new Map<string, Assignment[]>();
  for (const a of vehicleRows) byVehicle.set(a.vehicle_id, [...(byVehicle.get(a.vehicle_id) ?? []), a]);
  const plan: MovePlan = { conflicts: [], close: [], dated: [], sinceFree: [], unchanged: 0 };
  wanted.forEach((wish, entry) => {
    const all = byVehicle.get(wish.vehicleId) ?? [];
    if (wish.from === undefined && all.length === 0) {
      plan.sinceFree.push({ entry, request: wish });
      return;
    }
    const request = { ...wish, from: wish.from ?? now };
    const rows = all.filter((a) => a.valid_to.getTime() > request.from.getTime());
    if (holdsAlready(rows, request)) {
      plan.unchanged += 1;
      return;
    }
    const later = rows.filter((a) => a.valid_from.getTime() >= request.from.getTime());
    for (const assignment of later) plan.conflicts.push({ entry, kind: 'later_assignment', assignment });
    if (later.length > 0) return;
    const current = rows.find((a) => a.valid_from.getTime() < request.from.getTime());
    if (current) plan.close.push({ assignment: current, at: request.from });
    plan.dated.push({ entry, request });
  });
  return plan;
}

/** `rows`: the vehicle's assignments ending after `request.from`. */
function holdsAlready(rows: readonly Assignment[], request: DatedRequest): boolean {
  const holding = rows.length === 1 ? rows[0] : undefined;
  return (
    holding?.meter_id === request.meterId &&
    holding.valid_from.getTime() <= request.from.getTime() &&
    holding.valid_to.getTime() >= END_OF_TIME.getTime()
  );
}

/**
 * Step 2: every entry to create, in the batch's order, the first assignments without `from`
 * dated from `meterRows` (every assignment of their meters, read after the closes).
 */
export function startFirstAssignments(
  moves: Pick<MovePlan, 'dated' | 'sinceFree'>,
  meterRows: readonly Assignment[],
  now: Date,
): Entry<DatedRequest>[] {
  const dated = moves.sinceFree.map(({ entry, request }) => ({
    entry,
    request: { ...request, from: sinceMeterFree(request.meterId, meterRows, now) },
  }));
  return [...moves.dated, ...dated].sort((a, b) => a.entry - b.entry);
}

/** The last end by `now` of the meter's assignments (the beginning for a meter never assigned). */
function sinceMeterFree(meterId: string, meterRows: readonly Assignment[], now: Date): Date {
  const ends = meterRows.filter((a) => a.meter_id === meterId && a.valid_to <= now).map((a) => a.valid_to.getTime());
  return new Date(Math.max(START_OF_TIME.getTime(), ...ends));
}

/**
 * Step 3: the creations that collide, in the batch's order, from `uses` (the assignments of
 * their meters that hold at or after the start asked, read after the closes).
 */
export function meterConflicts(
  creations: readonly Entry<DatedRequest>[],
  uses: readonly Assignment[],
): AssignmentConflict[] {
  const conflicts: AssignmentConflict[] = [];
  const claimed = new Map<string, number>();
  for (const { request, entry } of creations) {
    for (const assignment of uses.filter((u) => u.meter_id === request.meterId && u.valid_to > request.from)) {
      conflicts.push({ entry, kind: 'meter_in_use', assignment });
    }
    const otherEntry = claimed.get(request.meterId);
    if (otherEntry !== undefined) {
      conflicts.push({ entry, kind: 'meter_listed_twice', meterId: request.meterId, otherEntry });
    }
    claimed.set(request.meterId, entry);
  }
  return conflicts;
}
