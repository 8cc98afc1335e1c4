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
