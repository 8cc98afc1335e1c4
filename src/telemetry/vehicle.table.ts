import type { Generated } from 'kysely';

export interface VehicleTelemetryHistoryTable {
  vehicle_id: string;
  ts: Date;
  soc: number;
  kwh_delivered_dc: number;
  battery_temp: number;
  received_at: Generated<Date>;
}

export interface VehicleLiveTable {
  vehicle_id: string;
  ts: Date;
  soc: number;
  kwh_delivered_dc: number;
  battery_temp: number;
  received_at: Date;
}

/** Continuous aggregates `vehicle_telemetry_hourly` and `vehicle_telemetry_15m` (read-only, same shape). */
export interface VehicleTelemetryHourlyView {
  vehicle_id: string;
  bucket: Date;
  kwh_delivered_dc: number;
  readings: number;
  battery_temp_sum: number;
  battery_temp_min: number;
  battery_temp_max: number;
  soc_min: number;
  soc_max: number;
}
