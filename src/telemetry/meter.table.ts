import type { Generated } from 'kysely';

import type { RegisterEvent } from './register-event.js';

export interface MeterTelemetryHistoryTable {
  meter_id: string;
  ts: Date;
  /** Energy of the interval ending at ts; derived for a register reading (register-chain.repository.ts). */
  kwh_consumed_ac: number;
  /** The register a register reading carried (NUMERIC, read as a number); null for an interval reading. */
  kwh_register: number | null;
  register_event: RegisterEvent | null;
  /** The register reading this one's energy was derived from (register-chain.ts); null for a `first` or an interval reading. */
  previous_ts: Date | null;
  previous_register: number | null;
  voltage: number;
  received_at: Generated<Date>;
}

export interface MeterLiveTable {
  meter_id: string;
  ts: Date;
  kwh_consumed_ac: number;
  kwh_register: number | null;
  voltage: number;
  received_at: Date;
}
