import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';

const howToMap = (vehicleId: string) =>
  `map one with PUT /v1/vehicles/${vehicleId}/meter {"meterId": "<meter id>"} (or PUT /v1/mappings for several)`;

/**
 * The 404 of every route that needs a vehicle's meter, telling apart the two reasons a client
 * must act on differently: a vehicle the service has never heard of (a typo, or a vehicle that
 * has sent nothing yet: `vehicle_not_found`) and a known vehicle whose meter nobody mapped
 * (`vehicle_not_mapped`). Both say how to map it; `hadAssignment` marks a vehicle whose
 * assignments all ended (known, but drawing from no meter now).
 */
export async function vehicleWithoutMeter(db: Db, vehicleId: string, hadAssignment = false): Promise<AppError> {
  const seen =
    hadAssignment ||
    (await db
      .selectFrom('vehicle_live')
      .select('vehicle_id')
      .where('vehicle_id', '=', vehicleId)
      .executeTakeFirst()) !== undefined;
  if (seen) {
    return new AppError(
      'vehicle_not_mapped',
      `Vehicle ${vehicleId} has no meter mapped${hadAssignment ? ' now' : ''}, so its AC side is unknown: ` +
        `${howToMap(vehicleId)}.`,
    );
  }
  return new AppError(
    'vehicle_not_found',
    `Vehicle ${vehicleId} is unknown: no reading has been received from it and it has no meter mapped. ` +
      `Check the id; to analyse a vehicle before it sends, ${howToMap(vehicleId)}.`,
  );
}
