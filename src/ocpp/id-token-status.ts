import type { Db } from '../db/database.js';
import { findIdTokenVehicle } from './id-token.repository.js';

/**
 * What the service answers for an id token, in both versions (1.6 idTagInfo, 2.0.1
 * idTokenInfo): `Accepted` when an admin mapped it to a vehicle (PUT /v1/id-tokens/{idToken}),
 * `Invalid` otherwise, or `Accepted` too with OCPP_ACCEPT_UNKNOWN_ID_TOKENS (the station then
 * charges; the token is recorded with its transactions, which assign no vehicle); and the
 * vehicle a transaction with it assigns.
 */
export async function idTokenStatus(
  db: Db,
  idToken: string,
  acceptUnknown: boolean,
): Promise<{ status: 'Accepted' | 'Invalid'; vehicleId: string | undefined }> {
  const vehicleId = await findIdTokenVehicle(db, idToken);
  return { status: vehicleId !== undefined || acceptUnknown ? 'Accepted' : 'Invalid', vehicleId };
}
