import type { Db } from '../db/database.js';

export function findMeterOfVehicle(db: Db, vehicleId: string) {
  return db
    .selectFrom('vehicle_meter_mapping')
    .select(['vehicle_id', 'meter_id'])
    .where('vehicle_id', '=', vehicleId)
    .executeTakeFirst();
}

export async function setMeterOfVehicle(db: Db, vehicleId: string, meterId: string): Promise<void> {
  await db
    .insertInto('vehicle_meter_mapping')
    .values({ vehicle_id: vehicleId, meter_id: meterId })
    .onConflict((oc) =>
      oc.column('vehicle_id').doUpdateSet((eb) => ({ meter_id: eb.ref('excluded.meter_id'), updated_at: new Date() })),
    )
    .execute();
}
