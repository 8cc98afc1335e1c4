import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { ChargePointConnectorTable, ChargePointTable, ChargePointTransactionTable } from './charge-point.table.js';
import type { OcppProtocol } from './ocpp-rpc.js';

/** Sets a station's password hash, creating the station; true if it was new. */
export async function setPasswordHash(db: Db, chargePointId: string, passwordHash: string): Promise<boolean> {
  const row = await db
    .insertInto('charge_points')
    .values({ charge_point_id: chargePointId, password_hash: passwordHash })
    .onConflict((oc) =>
      oc.column('charge_point_id').doUpdateSet({ password_hash: passwordHash, password_changed_at: sql`now()` }),
    )
    // xmax is 0 for a row this statement inserted, the updating transaction's id otherwise.
    .returning(sql<boolean>`(xmax = 0)`.as('created'))
    .executeTakeFirstOrThrow();
  return row.created;
}

export async function findPasswordHash(db: Db, chargePointId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('charge_points')
    .select('password_hash')
    .where('charge_point_id', '=', chargePointId)
    .executeTakeFirst();
  return row?.password_hash;
}

/**
 * Records a connection, leased until `leaseMs` from now (renewConnections keeps it); its
 * instant (the database's clock, to the millisecond a Date holds) identifies it for
 * renewConnections and markDisconnected.
 */
export async function markConnected(
  db: Db,
  chargePointId: string,
  protocol: OcppProtocol,
  leaseMs: number,
): Promise<Date | undefined> {
  const row = await db
    .updateTable('charge_points')
    .set({
      protocol,
      connected_at: sql<Date>`date_trunc('milliseconds', clock_timestamp())`,
      connected_until: leaseEnd(leaseMs),
      disconnected_at: null,
    })
    .where('charge_point_id', '=', chargePointId)
    .returning('connected_at')
    .executeTakeFirst();
  return row?.connected_at ?? undefined;
}

// The database's clock, as every instance reads `connected` against it (hosts' clocks skew).
const leaseEnd = (leaseMs: number) => sql<Date>`clock_timestamp() + make_interval(secs => ${leaseMs / 1000})`;

export interface HeldConnection {
  chargePointId: string;
  connectedAt: Date;
}

/**
 * Extends the leases of the connections this instance holds, in one statement. A station that
 * has connected again since (here or to another instance) is not touched: its newer connection
 * renews its own lease.
 */
export async function renewConnections(db: Db, held: readonly HeldConnection[], leaseMs: number): Promise<void> {
  if (held.length === 0) return;
  await db
    .updateTable('charge_points')
    .set({ connected_until: leaseEnd(leaseMs) })
    .where(
      sql<boolean>`(charge_point_id, connected_at) IN (SELECT * FROM unnest(
        ${held.map((c) => c.chargePointId)}::text[],
        ${held.map((c) => c.connectedAt.toISOString())}::timestamptz[]))`,
    )
    .where('disconnected_at', 'is', null)
    .execute();
}

/**
 * Marks the connection of `connectedAt` ended, unless the station has connected again since
 * (to this or another instance: the newer connection's state stands).
 */
export async function markDisconnected(db: Db, chargePointId: string, connectedAt: Date): Promise<void> {
  await db
    .updateTable('charge_points')
    .set({ disconnected_at: sql<Date>`now()` })
    .where('charge_point_id', '=', chargePointId)
    .where('connected_at', '=', connectedAt)
    .execute();
}

export interface BootInfo {
  vendor: string;
  model: string;
  firmwareVersion: string | null;
}

export async function recordBoot(db: Db, chargePointId: string, boot: BootInfo): Promise<void> {
  await db
    .updateTable('charge_points')
    .set({
      last_boot_at: sql<Date>`now()`,
      last_heartbeat_at: sql<Date>`now()`,
      vendor: boot.vendor,
      model: boot.model,
      firmware_version: boot.firmwareVersion,
    })
    .where('charge_point_id', '=', chargePointId)
    .execute();
}

export async function recordHeartbeat(db: Db, chargePointId: string): Promise<void> {
  await db
    .updateTable('charge_points')
    .set({ last_heartbeat_at: sql<Date>`now()` })
    .where('charge_point_id', '=', chargePointId)
    .execute();
}

export interface ConnectorStatus {
  connectorId: number;
  status: string;
  errorCode: string | null;
  info: string | null;
  statusAt: Date;
}

/** Keeps the connector's newest status: one sent late (older `statusAt`) changes nothing. */
export async function recordConnectorStatus(db: Db, chargePointId: string, status: ConnectorStatus): Promise<void> {
  await db
    .insertInto('charge_point_connectors')
    .values({
      charge_point_id: chargePointId,
      connector_id: status.connectorId,
      status: status.status,
      error_code: status.errorCode,
      info: status.info,
      status_at: status.statusAt,
    })
    .onConflict((oc) =>
      oc
        .columns(['charge_point_id', 'connector_id'])
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          error_code: eb.ref('excluded.error_code'),
          info: eb.ref('excluded.info'),
          status_at: eb.ref('excluded.status_at'),
          received_at: sql<Date>`now()`,
        }))
        .where('charge_point_connectors.status_at', '<=', (eb) => eb.ref('excluded.status_at')),
    )
    .execute();
}

export type StoredChargePoint = Omit<ChargePointTable, 'password_hash' | 'created_at' | 'password_changed_at'> & {
  created_at: Date;
  /** Connected, closed by no instance, and its lease not run out (by the database's clock). */
  connected: boolean;
  connectors: Omit<ChargePointConnectorTable, 'charge_point_id' | 'received_at'>[];
  openTransactions: (Pick<
    ChargePointTransactionTable,
    'connector_id' | 'ocpp_transaction_id' | 'id_tag' | 'vehicle_id' | 'started_at'
  > & { transaction_id: number })[];
};

export async function findChargePoint(db: Db, chargePointId: string): Promise<StoredChargePoint | undefined> {
  const station = await db
    .selectFrom('charge_points')
    .select([
      'charge_point_id',
      'protocol',
      'connected_at',
      'connected_until',
      'disconnected_at',
      'last_boot_at',
      'vendor',
      'model',
      'firmware_version',
      'last_heartbeat_at',
      'created_at',
      sql<boolean>`connected_at IS NOT NULL AND disconnected_at IS NULL
        AND (connected_until IS NULL OR connected_until > clock_timestamp())`.as('connected'),
    ])
    .where('charge_point_id', '=', chargePointId)
    .executeTakeFirst();
  if (!station) return undefined;
  const connectors = await db
    .selectFrom('charge_point_connectors')
    .select(['connector_id', 'status', 'error_code', 'info', 'status_at'])
    .where('charge_point_id', '=', chargePointId)
    .orderBy('connector_id')
    .execute();
  const openTransactions = await db
    .selectFrom('charge_point_transactions')
    .select(['transaction_id', 'ocpp_transaction_id', 'connector_id', 'id_tag', 'vehicle_id', 'started_at'])
    .where('charge_point_id', '=', chargePointId)
    .where('stopped_at', 'is', null)
    .orderBy('started_at')
    .orderBy('transaction_id')
    .execute();
  return { ...station, connectors, openTransactions };
}
