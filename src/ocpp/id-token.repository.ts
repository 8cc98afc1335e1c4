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
