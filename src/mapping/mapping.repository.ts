import { sql, type Selectable } from 'kysely';

import type { Db } from '../db/database.js';
import { pgInstant } from '../db/instants.js';
import type { Interval } from '../time.js';
import type { VehicleMeterAssignmentAuditTable, VehicleMeterAssignmentTable } from './mapping.table.js';

export type Assignment = Selectable<VehicleMeterAssignmentTable>;
export type AssignmentChange = Selectable<VehicleMeterAssignmentAuditTable>;

const COLUMNS = ['id', 'vehicle_id', 'meter_id', 'valid_from', 'valid_to', 'created_at'] as const;

/**
 * Rows per statement of a bulk change (up to 20,000 vehicles in one request). Every statement
 * must end within the statement timeout, and on the embedded database, which has one session
 * and no statement_timeout of its own, a statement the client gave up on keeps that session
 * busy to its end, so every request behind it fails too. 10,000 assignments in one INSERT
 * (two GiST exclusion constraints to check) took 1.9 s on an idle 2-core machine and over 12 s
 * beside 8 busy processes; 2,000 stay far below the limit. The transaction stays one.
 */
const ROWS_PER_STATEMENT = 2_000;

/** Runs `run` over `rows` in slices of ROWS_PER_STATEMENT, one statement each, in order. */
async function inSlices<T, R>(rows: readonly T[], run: (slice: readonly T[]) => Promise<R[]>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    results.push(...(await run(rows.slice(i, i + ROWS_PER_STATEMENT))));
  }
  return results;
}

/** Every assignment of a vehicle, oldest first. */
export function findAssignmentsOfVehicle(db: Db, vehicleId: string): Promise<Assignment[]> {
  return db
    .selectFrom('vehicle_meter_assignment')
    .select(COLUMNS)
    .where('vehicle_id', '=', vehicleId)
    .orderBy('valid_from')
    .execute();
}

/** Every assignment of a meter, oldest first. */
export function findAssignmentsOfMeter(db: Db, meterId: string): Promise<Assignment[]> {
  return db
    .selectFrom('vehicle_meter_assignment')
    .select(COLUMNS)
    .where('meter_id', '=', meterId)
    .orderBy('valid_from')
    .execute();
}

/** The assignments that hold at some instant of [window.from, window.to), by vehicle. */
export function findAssignmentsOverlapping(db: Db, window: Interval): Promise<Assignment[]> {
  return db
    .selectFrom('vehicle_meter_assignment')
    .select(COLUMNS)
    .where('valid_from', '<', new Date(window.to))
    .where('valid_to', '>', new Date(window.from))
    .orderBy('vehicle_id')
    .orderBy('valid_from')
    .execute();
}

export function findAssignment(db: Db, id: number): Promise<Assignment | undefined> {
  return db.selectFrom('vehicle_meter_assignment').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** The assignments of these vehicles that end after the given instant (one instant per vehicle). */
export async function findAssignmentsEndingAfter(
  db: Db,
  entries: readonly { vehicleId: string; from: Date }[],
): Promise<Assignment[]> {
  // Each vehicle is listed once, so a vehicle's rows come from one slice, oldest first.
  return inSlices(entries, async (slice) => {
    const result = await sql<Assignment>`
      SELECT a.id, a.vehicle_id, a.meter_id, a.valid_from, a.valid_to, a.created_at
      FROM unnest(${slice.map((e) => e.vehicleId)}::text[], ${slice.map((e) => pgInstant(e.from))}::timestamptz[])
        AS e (vehicle_id, from_ts)
      JOIN vehicle_meter_assignment a ON a.vehicle_id = e.vehicle_id AND a.valid_to > e.from_ts
      ORDER BY a.vehicle_id, a.valid_from`.execute(db);
    return result.rows;
  });
}

/** Assignments of these meters that hold at some instant at or after the given one. */
export async function findMeterUsesFrom(
  db: Db,
  entries: readonly { meterId: string; from: Date }[],
): Promise<Assignment[]> {
  const rows = await inSlices(entries, async (slice) => {
    const result = await sql<Assignment>`
      SELECT DISTINCT a.id, a.vehicle_id, a.meter_id, a.valid_from, a.valid_to, a.created_at
      FROM unnest(${slice.map((e) => e.meterId)}::text[], ${slice.map((e) => pgInstant(e.from))}::timestamptz[])
        AS e (meter_id, from_ts)
      JOIN vehicle_meter_assignment a ON a.meter_id = e.meter_id AND a.valid_to > e.from_ts`.execute(db);
    return result.rows;
  });
  // A meter listed in two slices: its assignments once, oldest first.
  const unique = [...new Map(rows.map((a) => [a.id, a])).values()];
  return unique.sort((a, b) => a.valid_from.getTime() - b.valid_from.getTime());
}

/** Assignments of this vehicle or this meter overlapping [from, to), other than `exceptId`. */
export function findOverlapping(
  db: Db,
  assignment: { vehicleId: string; meterId: string; from: Date; to: Date },
  exceptId: number,
): Promise<Assignment[]> {
  return db
    .selectFrom('vehicle_meter_assignment')
    .select(COLUMNS)
    .where((eb) => eb.or([eb('vehicle_id', '=', assignment.vehicleId), eb('meter_id', '=', assignment.meterId)]))
    .where('valid_from', '<', assignment.to)
    .where('valid_to', '>', assignment.from)
    .where('id', '<>', exceptId)
    .orderBy('valid_from')
    .execute();
}

/** Inserts open-ended assignments through `unnest` (a fixed handful of parameters for 20,000 rows). */
export async function insertAssignments(
  db: Db,
  rows: readonly { vehicleId: string; meterId: string; from: Date }[],
): Promise<Assignment[]> {
  return inSlices(rows, async (slice) => {
    const result = await sql<Assignment>`
      INSERT INTO vehicle_meter_assignment (vehicle_id, meter_id, valid_from)
      SELECT * FROM unnest(${slice.map((r) => r.vehicleId)}::text[], ${slice.map((r) => r.meterId)}::text[],
                           ${slice.map((r) => pgInstant(r.from))}::timestamptz[])
      RETURNING id, vehicle_id, meter_id, valid_from, valid_to, created_at`.execute(db);
    return result.rows;
  });
}

/** Ends these assignments at the given instants (moves), in one statement. */
export async function closeAssignments(db: Db, closes: readonly { id: number; to: Date }[]): Promise<void> {
  await inSlices(closes, async (slice) => {
    await sql`
      UPDATE vehicle_meter_assignment a SET valid_to = c.valid_to
      FROM unnest(${slice.map((c) => c.id)}::int8[], ${slice.map((c) => pgInstant(c.to))}::timestamptz[])
        AS c (id, valid_to)
      WHERE a.id = c.id`.execute(db);
    return [];
  });
}

export function setBounds(db: Db, id: number, from: Date, to: Date): Promise<Assignment | undefined> {
  return db
    .updateTable('vehicle_meter_assignment')
    .set({ valid_from: from, valid_to: to })
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
}

export function deleteAssignment(db: Db, id: number): Promise<Assignment | undefined> {
  return db.deleteFrom('vehicle_meter_assignment').where('id', '=', id).returning(COLUMNS).executeTakeFirst();
}

export async function recordChanges(db: Db, changes: readonly Omit<AssignmentChange, 'id' | 'at'>[]): Promise<void> {
  await inSlices(changes, async (slice) => {
    await recordSlice(db, slice);
    return [];
  });
}

async function recordSlice(db: Db, changes: readonly Omit<AssignmentChange, 'id' | 'at'>[]): Promise<void> {
  const instants = (pick: (c: Omit<AssignmentChange, 'id' | 'at'>) => Date | null) =>
    changes.map((c) => {
      const date = pick(c);
      return date === null ? null : pgInstant(date);
    });
  await sql`
    INSERT INTO vehicle_meter_assignment_audit
      (actor, action, assignment_id, vehicle_id, meter_id, old_from, old_to, new_from, new_to)
    SELECT * FROM unnest(
      ${changes.map((c) => c.actor)}::text[], ${changes.map((c) => c.action)}::text[],
      ${changes.map((c) => c.assignment_id)}::int8[], ${changes.map((c) => c.vehicle_id)}::text[],
      ${changes.map((c) => c.meter_id)}::text[], ${instants((c) => c.old_from)}::timestamptz[],
      ${instants((c) => c.old_to)}::timestamptz[], ${instants((c) => c.new_from)}::timestamptz[],
      ${instants((c) => c.new_to)}::timestamptz[])`.execute(db);
}

export function findChanges(
  db: Db,
  filter: { vehicleId?: string | undefined; meterId?: string | undefined; limit: number },
): Promise<AssignmentChange[]> {
  let query = db.selectFrom('vehicle_meter_assignment_audit').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.vehicleId !== undefined) query = query.where('vehicle_id', '=', filter.vehicleId);
  if (filter.meterId !== undefined) query = query.where('meter_id', '=', filter.meterId);
  return query.execute();
}
