import { sql } from 'kysely';

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
): Promise<{ connectorId: number; idTag: string | null; vehicleId: string | null; startedAt: Date } | undefined> {
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
  stop: { stoppedAt: Date; meterStopWh: number | null; reason: string | null },
): Promise<void> {
  await db
    .updateTable('charge_point_transactions')
    .set({ stopped_at: stop.stoppedAt, meter_stop_wh: stop.meterStopWh, stop_reason: stop.reason })
    .where('transaction_id', '=', transactionId)
    .where('stopped_at', 'is', null)
    .execute();
}

/** A 2.0.1 transaction as the events after its first one need it. */
export interface Transaction201 {
  transactionId: number;
  connectorId: number;
  idTag: string | null;
  vehicleId: string | null;
  startedAt: Date;
}

const TRANSACTION_201 = ['transaction_id', 'connector_id', 'id_tag', 'vehicle_id', 'started_at'] as const;
const asTransaction201 = (row: {
  transaction_id: number;
  connector_id: number;
  id_tag: string | null;
  vehicle_id: string | null;
  started_at: Date;
}): Transaction201 => ({
  transactionId: row.transaction_id,
  connectorId: row.connector_id,
  idTag: row.id_tag,
  vehicleId: row.vehicle_id,
  startedAt: row.started_at,
});

/** A 2.0.1 transaction by the id its station gave it. */
export async function findTransaction201(
  db: Db,
  chargePointId: string,
  ocppTransactionId: string,
): Promise<Transaction201 | undefined> {
  const row = await db
    .selectFrom('charge_point_transactions')
    .select(TRANSACTION_201)
    .where('charge_point_id', '=', chargePointId)
    .where('ocpp_transaction_id', '=', ocppTransactionId)
    .executeTakeFirst();
  return row && asTransaction201(row);
}

/**
 * Records a 2.0.1 transaction at its first event; `created` is false when a concurrent or
 * earlier event recorded it first (that one's row is returned, unchanged).
 */
export async function startTransaction201(
  db: Db,
  started: {
    chargePointId: string;
    ocppTransactionId: string;
    connectorId: number;
    startedAt: Date;
    idTag: string | null;
    idTagStatus: string | null;
    vehicleId: string | null;
  },
): Promise<Transaction201 & { created: boolean }> {
  const row = await db
    .insertInto('charge_point_transactions')
    .values({
      charge_point_id: started.chargePointId,
      ocpp_transaction_id: started.ocppTransactionId,
      connector_id: started.connectorId,
      id_tag: started.idTag,
      id_tag_status: started.idTagStatus,
      vehicle_id: started.vehicleId,
      started_at: started.startedAt,
      meter_start_wh: null,
    })
    .onConflict((oc) =>
      // A no-op update, so that RETURNING gives the existing row.
      oc
        .columns(['charge_point_id', 'ocpp_transaction_id'])
        .doUpdateSet((eb) => ({ id_tag: eb.ref('charge_point_transactions.id_tag') })),
    )
    .returning([...TRANSACTION_201, sql<boolean>`(xmax = 0)`.as('created')])
    .executeTakeFirstOrThrow();
  return { ...asTransaction201(row), created: row.created };
}

/**
 * Gives a 2.0.1 transaction its id token when an event after the start is the first to carry
 * one (authorized after the cable was plugged in); false when it had one already.
 */
export async function setTransactionToken(
  db: Db,
  transactionId: number,
  token: { idTag: string; idTagStatus: string; vehicleId: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('charge_point_transactions')
    .set({ id_tag: token.idTag, id_tag_status: token.idTagStatus, vehicle_id: token.vehicleId })
    .where('transaction_id', '=', transactionId)
    .where('id_tag', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
