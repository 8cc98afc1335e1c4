import type { Generated } from 'kysely';

import type { OcppProtocol } from './ocpp-rpc.js';

export interface ChargePointTable {
  charge_point_id: string;
  /** scrypt hash of the Basic-auth password (charge-point-password.ts); never the password. */
  password_hash: string;
  protocol: OcppProtocol | null;
  connected_at: Date | null;
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
  id_tag: string;
  id_tag_status: string;
  vehicle_id: string | null;
  started_at: Date;
  /** NUMERIC (the station sends whole Wh; read as a number, create-db.ts). */
  meter_start_wh: number;
  stopped_at: Date | null;
  meter_stop_wh: number | null;
  stop_reason: string | null;
}

export interface IdTokenTable {
  id_token: string;
  vehicle_id: string;
  updated_at: Generated<Date>;
}
