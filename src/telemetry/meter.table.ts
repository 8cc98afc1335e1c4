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

/** Continuous aggregates `meter_telemetry_hourly` and `meter_telemetry_15m` (read-only, same shape). */
export interface MeterTelemetryHourlyView {
  meter_id: string;
  bucket: Date;
  kwh_consumed_ac: number;
  readings: number;
  voltage_sum: number;
  voltage_min: number;
  voltage_max: number;
}
