import { sql } from 'kysely';

import type { Db } from '../db/database.js';

/** OCPP id tokens are case-insensitive (CiString): one form is kept and looked up. */
export const normalIdToken = (idToken: string) => idToken.toUpperCase();

export async function setIdTokenVehicle(db: Db, idToken: string, vehicleId: string): Promise<void> {
  await db
    .insertInto('id_tokens')
    .values({ id_token: normalIdToken(idToken), vehicle_id: vehicleId })
    .onConflict((oc) => oc.column('id_token').doUpdateSet({ vehicle_id: vehicleId, updated_at: sql`now()` }))
    .execute();
}

export async function findIdTokenVehicle(db: Db, idToken: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('id_tokens')
    .select('vehicle_id')
    .where('id_token', '=', normalIdToken(idToken))
    .executeTakeFirst();
  return row?.vehicle_id;
}

export async function deleteIdToken(db: Db, idToken: string): Promise<boolean> {
  const result = await db.deleteFrom('id_tokens').where('id_token', '=', normalIdToken(idToken)).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Records that a station presented a token no vehicle is mapped to, and what it was answered. */
export async function recordUnknownIdToken(
  db: Db,
  idToken: string,
  seen: { chargePointId: string; status: string },
): Promise<void> {
  await db
    .insertInto('unknown_id_tokens')
    .values({ id_token: normalIdToken(idToken), last_charge_point_id: seen.chargePointId, last_status: seen.status })
    .onConflict((oc) =>
      oc.column('id_token').doUpdateSet((eb) => ({
        last_seen_at: sql<Date>`now()`,
        last_charge_point_id: eb.ref('excluded.last_charge_point_id'),
        last_status: eb.ref('excluded.last_status'),
        times_seen: sql<number>`unknown_id_tokens.times_seen + 1`,
      })),
    )
    .execute();
}

export interface ListedIdToken {
  idToken: string;
  vehicleId: string | null;
  updatedAt: Date | null;
  seenUnknown: { firstAt: Date; lastAt: Date; lastChargePointId: string; lastStatus: string; times: number } | null;
}

/**
 * The mapped tokens (by token), or with `unknown` the tokens presented while unmapped and still
 * unmapped (most recently seen first); each with its sightings while unmapped, if any.
 */
export async function listIdTokens(db: Db, options: { unknown: boolean; limit: number }): Promise<ListedIdToken[]> {
  const rows = options.unknown
    ? await db
        .selectFrom('unknown_id_tokens as u')
        .leftJoin('id_tokens as t', 't.id_token', 'u.id_token')
        .where('t.id_token', 'is', null)
        .select(['u.id_token', 't.vehicle_id', 't.updated_at'])
        .select(['u.first_seen_at', 'u.last_seen_at', 'u.last_charge_point_id', 'u.last_status', 'u.times_seen'])
        .orderBy('u.last_seen_at', 'desc')
        .orderBy('u.id_token')
        .limit(options.limit)
        .execute()
    : await db
        .selectFrom('id_tokens as t')
        .leftJoin('unknown_id_tokens as u', 'u.id_token', 't.id_token')
        .select(['t.id_token', 't.vehicle_id', 't.updated_at'])
        .select(['u.first_seen_at', 'u.last_seen_at', 'u.last_charge_point_id', 'u.last_status', 'u.times_seen'])
        .orderBy('t.id_token')
        .limit(options.limit)
        .execute();
  return rows.map((row) => ({
    idToken: row.id_token,
    vehicleId: row.vehicle_id,
    updatedAt: row.updated_at,
    seenUnknown:
      row.first_seen_at === null ||
      row.last_seen_at === null ||
      row.last_charge_point_id === null ||
      row.last_status === null ||
      row.times_seen === null
        ? null
        : {
            firstAt: row.first_seen_at,
            lastAt: row.last_seen_at,
            lastChargePointId: row.last_charge_point_id,
            lastStatus: row.last_status,
            times: row.times_seen,
          },
  }));
}
