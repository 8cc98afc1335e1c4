import type { Db } from '../db/database.js';
import { findIdTokenVehicle, recordUnknownIdToken } from './id-token.repository.js';

/**
 * What the service answers for an id token, in both versions (1.6 idTagInfo, 2.0.1
 * idTokenInfo): `Accepted` when an admin mapped it to a vehicle (PUT /v1/id-tokens/{idToken}),
 * `Invalid` otherwise, or `Accepted` too with OCPP_ACCEPT_UNKNOWN_ID_TOKENS (the station then
 * charges; the token is recorded with its transactions, which assign no vehicle); and the
 * vehicle a transaction with it assigns. An unmapped token is recorded with the station and the
 * answer (GET /v1/id-tokens?unknown=true), so an admin can map the cards drivers present.
 */
export async function idTokenStatus(
  db: Db,
  idToken: string,
  context: { chargePointId: string; acceptUnknown: boolean },
): Promise<{ status: 'Accepted' | 'Invalid'; vehicleId: string | undefined }> {
  const vehicleId = await findIdTokenVehicle(db, idToken);
  if (vehicleId !== undefined) return { status: 'Accepted', vehicleId };
  const status = context.acceptUnknown ? 'Accepted' : 'Invalid';
  await recordUnknownIdToken(db, idToken, { chargePointId: context.chargePointId, status });
  return { status, vehicleId };
}
