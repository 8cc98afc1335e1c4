import type { Db } from '../db/database.js';
import { isExclusionViolation } from '../db/pg-errors.js';
import { AppError, type ErrorDetail } from '../http/app-error.js';
import { END_OF_TIME, START_OF_TIME } from '../time.js';
import {
  meterConflicts,
  planMoves,
  startFirstAssignments,
  type AssignmentConflict,
  type AssignmentRequest,
  type MovePlan,
} from './assignment-plan.js';
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
  type AssignmentChange,
} from './mapping.repository.js';

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
 * A batch means the same as its changes applied one after another (assignment-plan.ts
 * decides, step by step; this transaction reads what each step needs and writes its outcome).
 */
export async function assignMeters(
  db: Db,
  wanted: readonly AssignmentRequest[],
  actor: string,
  where: (index: number) => Pick<ErrorDetail, 'index' | 'line'> = () => ({}),
): Promise<AssignResult> {
  const now = new Date();
  const refusal = (conflicts: readonly AssignmentConflict[]) => conflict(conflicts.map((c) => detailOf(c, where)));
  try {
    return await db.transaction().execute(async (trx) => {
      // Every assignment of the listed vehicles: whether each has one decides its default `from`.
      const moves = planMoves(
        wanted,
        await findAssignmentsEndingAfter(
          trx,
          wanted.map((r) => ({ vehicleId: r.vehicleId, from: START_OF_TIME })),
        ),
        now,
      );
      if (moves.conflicts.length > 0) throw refusal(moves.conflicts);

      await closeAssignments(
        trx,
        moves.close.map(({ assignment, at }) => ({ id: assignment.id, to: at })),
      );
      // After the moves: a meter a listed vehicle left is free from where it left.
      const meterRows =
        moves.sinceFree.length > 0
          ? await findMeterUsesFrom(
              trx,
              moves.sinceFree.map(({ request }) => ({ meterId: request.meterId, from: START_OF_TIME })),
            )
          : [];
      const creations = startFirstAssignments(moves, meterRows, now);
      const taken = meterConflicts(
        creations,
        await findMeterUsesFrom(
          trx,
          creations.map(({ request }) => request),
        ),
      );
      if (taken.length > 0) throw refusal(taken);

      const created =
        creations.length > 0
          ? await insertAssignments(
              trx,
              creations.map(({ request }) => request),
            )
          : [];
      await recordChanges(trx, batchChanges(actor, moves.close, created));
      return { created: created.length - moves.close.length, moved: moves.close.length, unchanged: moves.unchanged };
    });
  } catch (error) {
    if (isExclusionViolation(error)) {
      throw conflict([{ path: 'meterId', message: 'a concurrent change took this vehicle or meter; retry' }]);
    }
    throw error;
  }
}

/** The audit of a batch: the closes of its moves, then the assignments it created. */
function batchChanges(
  actor: string,
  closed: MovePlan['close'],
  created: readonly Assignment[],
): Omit<AssignmentChange, 'id' | 'at'>[] {
  return [
    ...closed.map(({ assignment, at }) => ({
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
  ];
}

/** A refused entry as the 409 says it, where the entry stands in the request. */
function detailOf(c: AssignmentConflict, where: (index: number) => Pick<ErrorDetail, 'index' | 'line'>): ErrorDetail {
  switch (c.kind) {
    case 'later_assignment':
      return {
        ...where(c.entry),
        path: 'from',
        message: `${describe(c.assignment)}: a later assignment; correct or delete it instead`,
        conflict: conflictOf(c.assignment),
      };
    case 'meter_in_use':
      return {
        ...where(c.entry),
        path: 'meterId',
        message: describe(c.assignment),
        conflict: conflictOf(c.assignment),
      };
    case 'meter_listed_twice':
      return {
        ...where(c.entry),
        path: 'meterId',
        message: `meter ${c.meterId} is also assigned by entry ${c.otherEntry} of this request`,
      };
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
