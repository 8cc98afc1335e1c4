import type { Db } from '../db/database.js';

export interface StartedTransaction {
  chargePointId: string;
  connectorId: number;
  idTag: string;
  idTagStatus: string;
  vehicleId: string | null;
  startedAt: Date;
  meterStartWh: number;
}

/**
 * Records a started transaction and returns its id. A StartTransaction resent by a station
 * that got no answer has the same connector and start: it gets the same id back.
 */
export async function startTransaction(db: Db, started: StartedTransaction): Promise<number> {
  const row = await db
    .insertInto('charge_point_transactions')
    .values({
      charge_point_id: started.chargePointId,
      connector_id: started.connectorId,
      id_tag: started.idTag,
      id_tag_status: started.idTagStatus,
      vehicle_id: started.vehicleId,
      started_at: started.startedAt,
      meter_start_wh: started.meterStartWh,
    })
    .onConflict((oc) =>
      // A no-op update, so that RETURNING gives the existing row's id.
      oc
        .columns(['charge_point_id', 'connector_id', 'started_at'])
        .doUpdateSet((eb) => ({ id_tag: eb.ref('charge_point_transactions.id_tag') })),
    )
    .returning('transaction_id')
    .executeTakeFirstOrThrow();
  return row.transaction_id;
}

export async function findTransaction(
  db: Db,
  chargePointId: string,
  transactionId: number,
): Promise<{ connectorId: number; idTag: string; vehicleId: string | null; startedAt: Date } | undefined> {
  const row = await db
    .selectFrom('charge_point_transactions')
    .select(['connector_id', 'id_tag', 'vehicle_id', 'started_at'])
    .where('charge_point_id', '=', chargePointId)
    .where('transaction_id', '=', transactionId)
    .executeTakeFirst();
  return (
    row && { connectorId: row.connector_id, idTag: row.id_tag, vehicleId: row.vehicle_id, startedAt: row.started_at }
  );
}

/** Records the stop; a StopTransaction resent keeps the first one's values. */
export async function stopTransaction(
  db: Db,
  transactionId: number,
  stop: { stoppedAt: Date; meterStopWh: number; reason: string | null },
): Promise<void> {
  await db
    .updateTable('charge_point_transactions')
    .set({ stopped_at: stop.stoppedAt, meter_stop_wh: stop.meterStopWh, stop_reason: stop.reason })
    .where('transaction_id', '=', transactionId)
    .where('stopped_at', 'is', null)
    .execute();
}
