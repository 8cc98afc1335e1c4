import type { Generated } from 'kysely';

import type { OcppProtocol } from './ocpp-rpc.js';

export interface ChargePointTable {
  charge_point_id: string;
  /** scrypt hash of the Basic-auth password (charge-point-password.ts); never the password. */
  password_hash: string;
  protocol: OcppProtocol | null;
  connected_at: Date | null;
  /** The connection's lease (renewed by the instance holding the socket); NULL before it existed. */
  connected_until: Date | null;
  disconnected_at: Date | null;
  last_boot_at: Date | null;
  vendor: string | null;
  model: string | null;
  firmware_version: string | null;
  last_heartbeat_at: Date | null;
  created_at: Generated<Date>;
  password_changed_at: Generated<Date>;
}

export interface ChargePointConnectorTable {
  charge_point_id: string;
  connector_id: number;
  status: string;
  error_code: string | null;
  info: string | null;
  status_at: Date;
  received_at: Generated<Date>;
}

export interface ChargePointTransactionTable {
  transaction_id: Generated<number>;
  charge_point_id: string;
  connector_id: number;
  /** 2.0.1's own transaction id (TransactionEvent); NULL for 1.6. */
  ocpp_transaction_id: string | null;
  /** NULL until a 2.0.1 transaction is given a token (1.6 starts with one). */
  id_tag: string | null;
  id_tag_status: string | null;
  vehicle_id: string | null;
  started_at: Date;
  /** NUMERIC (1.6 sends whole Wh; read as a number, create-db.ts); NULL for 2.0.1. */
  meter_start_wh: number | null;
  stopped_at: Date | null;
  meter_stop_wh: number | null;
  stop_reason: string | null;
}

export interface IdTokenTable {
  id_token: string;
  vehicle_id: string;
  updated_at: Generated<Date>;
}

export interface UnknownIdTokenTable {
  id_token: string;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  last_charge_point_id: string;
  last_status: string;
  times_seen: Generated<number>;
}
