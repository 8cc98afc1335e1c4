import type { Generated } from 'kysely';

export interface MeterTelemetryHistoryTable {
  meter_id: string;
  ts: Date;
  kwh_consumed_ac: number;
  voltage: number;
  received_at: Generated<Date>;
}

export interface MeterLiveTable {
  meter_id: string;
  ts: Date;
  kwh_consumed_ac: number;
  voltage: number;
  received_at: Date;
}
