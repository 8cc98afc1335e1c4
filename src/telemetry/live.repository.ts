import type { Db } from '../db/database.js';

export function findMeterLive(db: Db, meterId: string) {
  return db
    .selectFrom('meter_live')
    .select(['meter_id', 'ts', 'kwh_consumed_ac', 'kwh_register', 'voltage', 'received_at'])
    .where('meter_id', '=', meterId)
    .executeTakeFirst();
}

export function findVehicleLive(db: Db, vehicleId: string) {
  return db
    .selectFrom('vehicle_live')
    .select(['vehicle_id', 'ts', 'soc', 'kwh_delivered_dc', 'kwh_register', 'battery_temp', 'received_at'])
    .where('vehicle_id', '=', vehicleId)
    .executeTakeFirst();
}
