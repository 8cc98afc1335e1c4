import type { Generated } from 'kysely';

import type { RegisterEvent } from './register-event.js';

export interface VehicleTelemetryHistoryTable {
  vehicle_id: string;
  ts: Date;
  soc: number;
  /** Energy of the interval ending at ts; derived for a register reading (register-chain.repository.ts). */
  kwh_delivered_dc: number;
  /** The register a register reading carried (NUMERIC, read as a number); null for an interval reading. */
  kwh_register: number | null;
  register_event: RegisterEvent | null;
  /** The register reading this one's energy was derived from (register-chain.ts); null for a `first` or an interval reading. */
  previous_ts: Date | null;
  previous_register: number | null;
  battery_temp: number;
  received_at: Generated<Date>;
}

export interface VehicleLiveTable {
  vehicle_id: string;
  ts: Date;
  soc: number;
  kwh_delivered_dc: number;
  kwh_register: number | null;
  battery_temp: number;
  received_at: Date;
}
