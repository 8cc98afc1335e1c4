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
  error_code: string;
  info: string | null;
  status_at: Date;
  received_at: Generated<Date>;
}
