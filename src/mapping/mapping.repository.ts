import { sql } from 'kysely';

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

export interface BulkUpsertResult {
  created: number;
  updated: number;
}

/**
 * Maps many vehicles in one statement (atomic: all or none), through `unnest` arrays so the
 * bind parameters stay two whatever the size. Rows already pointing at the same meter are
 * left untouched and not counted.
 */
export async function upsertMappings(
  db: Db,
  entries: readonly { vehicleId: string; meterId: string }[],
): Promise<BulkUpsertResult> {
  const input = sql<{ vehicle_id: string; meter_id: string }>`(
    SELECT * FROM unnest(${entries.map((e) => e.vehicleId)}::text[], ${entries.map((e) => e.meterId)}::text[])
      AS u (vehicle_id, meter_id))`;
  const rows = await db
    .insertInto('vehicle_meter_mapping')
    .columns(['vehicle_id', 'meter_id'])
    .expression(db.selectFrom(input.as('t')).select(['t.vehicle_id', 't.meter_id']))
    .onConflict((oc) =>
      oc
        .column('vehicle_id')
        .doUpdateSet((eb) => ({ meter_id: eb.ref('excluded.meter_id'), updated_at: new Date() }))
        .where((eb) => eb('vehicle_meter_mapping.meter_id', 'is distinct from', eb.ref('excluded.meter_id'))),
    )
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .execute();
  const created = rows.filter((row) => row.inserted).length;
  return { created, updated: rows.length - created };
}
