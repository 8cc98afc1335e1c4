import type { Db } from '../db/database.js';
import { isExclusionViolation } from '../db/pg-errors.js';
import { AppError, type ErrorDetail } from '../http/app-error.js';
import { END_OF_TIME, START_OF_TIME } from '../time.js';
import {
  deleteAssignment,
  findAssignment,
  findAssignmentsEndingAfter,
  findMeterUsesFrom,
  findOverlapping,
  insertAssignments,
  closeAssignments,
  recordChanges,
  setBounds,
  type Assignment,
} from './mapping.repository.js';

/** One "from this instant on, this vehicle draws from this meter". */
export interface AssignmentRequest {
  vehicleId: string;
  meterId: string;
  /** Unset: see `defaultFrom`. */
  from?: Date | undefined;
}

/**
 * When a vehicle's first assignment names no instant, it holds since its meter was free
 * (since the beginning for a meter never assigned), so history sent before the vehicle was
 * mapped is attributed, as it was before assignments had intervals. `uses` are the meter's
 * assignments as they stand when this assignment is made.
 */
function sinceMeterFree(meterId: string, uses: readonly Assignment[], now: Date): Date {
  const ends = uses.filter((a) => a.meter_id === meterId && a.valid_to <= now).map((a) => a.valid_to.getTime());
  return new Date(Math.max(START_OF_TIME.getTime(), ...ends));
}

export interface AssignResult {
  /** Vehicles that had no assignment in force at `from`. */
  created: number;
  /** Vehicles whose assignment in force at `from` was closed there for the new meter. */
  moved: number;
  /** Vehicles already drawing from that meter since `from` or earlier, with no end. */
  unchanged: number;
}

/** An instant as the API shows it: null for ±infinity. */
export const instantOrNull = (date: Date) =>
  date.getTime() <= START_OF_TIME.getTime() || date.getTime() >= END_OF_TIME.getTime() ? null : date.toISOString();

const describe = (a: Assignment) =>
  `vehicle ${a.vehicle_id} draws from meter ${a.meter_id} from ${instantOrNull(a.valid_from) ?? 'the beginning'} ` +
  `${instantOrNull(a.valid_to) === null ? 'on (open-ended)' : `to ${instantOrNull(a.valid_to)}`}`;

const conflictOf = (a: Assignment): NonNullable<ErrorDetail['conflict']> => ({
  assignmentId: a.id,
  vehicleId: a.vehicle_id,
  meterId: a.meter_id,
  from: instantOrNull(a.valid_from),
  to: instantOrNull(a.valid_to),
});

function conflict(details: ErrorDetail[]): AppError {
  return new AppError('assignment_conflict', 'The assignment collides with another one; nothing was changed.', {
    details,
  });
}

/**
 * From `from` on, each vehicle draws from its meter: the vehicle's assignment in force at
 * `from` is closed there (a move), or left alone when it is the same meter and open-ended.
 * Without `from`: now for a vehicle that has an assignment (a move), since the meter was free
 * for a vehicle's first one. All or nothing, in one transaction. Refused (409, nothing
 * changed) when a vehicle already has an assignment starting at or after `from` (that is a
 * correction of the past, not a move) or when the meter serves another vehicle at or after
 * `from`. The database's exclusion constraints stay the final word: a concurrent change that
 * collides is a 409 too.
 *
 * A batch means the same as its changes applied one after another: first the moves, then the
 * first assignments, each in the order listed. The moves happen at once (every listed
 * vehicle's assignment is closed before any meter is checked), which lets vehicles swap meters,
 * and a first assignment without `from` starts where the batch's own moves freed its meter:
 * ev-42 leaving meter-18 now and ev-43 taking meter-18 starts ev-43 now, as two single calls do.
 */
export async function assignMeters(
  db: Db,
  wanted: readonly AssignmentRequest[],
  actor: string,
  where: (index: number) => Pick<ErrorDetail, 'index' | 'line'> = () => ({}),
): Promise<AssignResult> {
  const now = new Date();
  try {
    return await db.transaction().execute(async (trx) => {
      // Every assignment of the listed vehicles: whether each has one decides its default `from`.
      const byVehicle = new Map<string, Assignment[]>();
      for (const a of await findAssignmentsEndingAfter(
        trx,
        wanted.map((r) => ({ vehicleId: r.vehicleId, from: START_OF_TIME })),
      )) {
        byVehicle.set(a.vehicle_id, [...(byVehicle.get(a.vehicle_id) ?? []), a]);
      }
      const details: ErrorDetail[] = [];
      const toClose: { assignment: Assignment; at: Date }[] = [];
      const toCreate: { request: AssignmentRequest & { from: Date }; index: number }[] = [];
      // First assignments without `from`: their start depends on the moves below.
      const sinceFree: { request: AssignmentRequest; index: number }[] = [];
      let unchanged = 0;
      wanted.forEach((wish, index) => {
        const all = byVehicle.get(wish.vehicleId) ?? [];
        if (wish.from === undefined && all.length === 0) {
          sinceFree.push({ request: wish, index });
          return;
        }
        const request = { ...wish, from: wish.from ?? now };
        const rows = all.filter((a) => a.valid_to.getTime() > request.from.getTime());
        // Already so: the same meter, open-ended, since `from` or earlier (a repeated request).
        const holding = rows.length === 1 ? rows[0] : undefined;
        if (
          holding?.meter_id === request.meterId &&
          holding.valid_from.getTime() <= request.from.getTime() &&
          holding.valid_to.getTime() >= END_OF_TIME.getTime()
        ) {
          unchanged += 1;
          return;
        }
        const later = rows.filter((a) => a.valid_from.getTime() >= request.from.getTime());
        const current = rows.find((a) => a.valid_from.getTime() < request.from.getTime());
        for (const a of later) {
          details.push({
            ...where(index),
            path: 'from',
            message: `${describe(a)}: a later assignment; correct or delete it instead`,
            conflict: conflictOf(a),
          });
        }
        if (later.length > 0) return;
        if (current) toClose.push({ assignment: current, at: request.from });
        toCreate.push({ request, index });
      });
      if (details.length > 0) throw conflict(details);

      await closeAssignments(
        trx,
        toClose.map(({ assignment, at }) => ({ id: assignment.id, to: at })),
      );
      if (sinceFree.length > 0) {
        // After the moves: a meter a listed vehicle left is free from where it left.
        const meterUses = await findMeterUsesFrom(
          trx,
          sinceFree.map(({ request }) => ({ meterId: request.meterId, from: START_OF_TIME })),
        );
        for (const { request, index } of sinceFree) {
          toCreate.push({ request: { ...request, from: sinceMeterFree(request.meterId, meterUses, now) }, index });
        }
        toCreate.sort((a, b) => a.index - b.index);
      }
      // After the moves, a meter still in use at or after `from` belongs to someone else.
      const uses = await findMeterUsesFrom(
        trx,
        toCreate.map(({ request }) => request),
      );
      const claimed = new Map<string, number>();
      for (const { request, index } of toCreate) {
        for (const a of uses.filter((u) => u.meter_id === request.meterId && u.valid_to > request.from)) {
          details.push({ ...where(index), path: 'meterId', message: describe(a), conflict: conflictOf(a) });
        }
        const other = claimed.get(request.meterId);
        if (other !== undefined) {
          details.push({
            ...where(index),
            path: 'meterId',
            message: `meter ${request.meterId} is also assigned by entry ${other} of this request`,
          });
        }
        claimed.set(request.meterId, index);
      }
      if (details.length > 0) throw conflict(details);

      const created =
        toCreate.length > 0
          ? await insertAssignments(
              trx,
              toCreate.map(({ request }) => request),
            )
          : [];
      await recordChanges(trx, [
        ...toClose.map(({ assignment, at }) => ({
          actor,
          action: 'close' as const,
          assignment_id: assignment.id,
          vehicle_id: assignment.vehicle_id,
          meter_id: assignment.meter_id,
          old_from: assignment.valid_from,
          old_to: assignment.valid_to,
          new_from: assignment.valid_from,
          new_to: at,
        })),
        ...created.map((a) => ({
          actor,
          action: 'assign' as const,
          assignment_id: a.id,
          vehicle_id: a.vehicle_id,
          meter_id: a.meter_id,
          old_from: null,
          old_to: null,
          new_from: a.valid_from,
          new_to: a.valid_to,
        })),
      ]);
      return { created: created.length - toClose.length, moved: toClose.length, unchanged };
    });
  } catch (error) {
    if (isExclusionViolation(error)) {
      throw conflict([{ path: 'meterId', message: 'a concurrent change took this vehicle or meter; retry' }]);
    }
    throw error;
  }
}

/**
 * A correction of the past: new bounds for one assignment (`to` null: open-ended; `from`
 * null: since the beginning). Refused with the colliding assignments when it would overlap
 * another one of the same vehicle or meter. Audited.
 */
export async function correctAssignment(
  db: Db,
  id: number,
  bounds: { from: Date | null; to: Date | null },
  actor: string,
): Promise<Assignment> {
  const from = bounds.from ?? START_OF_TIME;
  const to = bounds.to ?? END_OF_TIME;
  if (from.getTime() >= to.getTime()) {
    throw AppError.validation([{ path: 'body.to', message: 'must be later than "from"' }]);
  }
  try {
    return await db.transaction().execute(async (trx) => {
      const before = await findAssignment(trx, id);
      if (!before) throw new AppError('assignment_not_found', `No assignment ${id}.`);
      const collisions = await findOverlapping(
        trx,
        { vehicleId: before.vehicle_id, meterId: before.meter_id, from, to },
        id,
      );
      if (collisions.length > 0) {
        throw conflict(
          collisions.map((a) => ({
            path: a.vehicle_id === before.vehicle_id ? 'from' : 'meterId',
            message: describe(a),
            conflict: conflictOf(a),
          })),
        );
      }
      const after = (await setBounds(trx, id, from, to))!;
      await recordChanges(trx, [
        {
          actor,
          action: 'correct',
          assignment_id: id,
          vehicle_id: after.vehicle_id,
          meter_id: after.meter_id,
          old_from: before.valid_from,
          old_to: before.valid_to,
          new_from: after.valid_from,
          new_to: after.valid_to,
        },
      ]);
      return after;
    });
  } catch (error) {
    if (isExclusionViolation(error)) {
      throw conflict([{ path: 'from', message: 'a concurrent change overlaps this interval; retry' }]);
    }
    throw error;
  }
}

/** Deletes an assignment (a correction: it never held). Audited. */
export async function removeAssignment(db: Db, id: number, actor: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const removed = await deleteAssignment(trx, id);
    if (!removed) throw new AppError('assignment_not_found', `No assignment ${id}.`);
    await recordChanges(trx, [
      {
        actor,
        action: 'delete',
        assignment_id: id,
        vehicle_id: removed.vehicle_id,
        meter_id: removed.meter_id,
        old_from: removed.valid_from,
        old_to: removed.valid_to,
        new_from: null,
        new_to: null,
      },
    ]);
  });
}
