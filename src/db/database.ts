import type { Kysely } from 'kysely';

import type { ApiKeyTable } from '../auth/api-key.table.js';
import type { VehicleMeterMappingTable } from '../mapping/mapping.table.js';
import type { MeterLiveTable, MeterTelemetryHistoryTable, MeterTelemetryHourlyView } from '../telemetry/meter.table.js';
import type {
  VehicleLiveTable,
  VehicleTelemetryHistoryTable,
  VehicleTelemetryHourlyView,
} from '../telemetry/vehicle.table.js';

/** Every table and view the service queries, as Kysely sees them. */
export interface Database {
  api_keys: ApiKeyTable;
  vehicle_meter_mapping: VehicleMeterMappingTable;
  meter_telemetry_history: MeterTelemetryHistoryTable;
  vehicle_telemetry_history: VehicleTelemetryHistoryTable;
  meter_live: MeterLiveTable;
  vehicle_live: VehicleLiveTable;
  meter_telemetry_hourly: MeterTelemetryHourlyView;
  vehicle_telemetry_hourly: VehicleTelemetryHourlyView;
  meter_telemetry_15m: MeterTelemetryHourlyView;
  vehicle_telemetry_15m: VehicleTelemetryHourlyView;
}

export type Db = Kysely<Database>;
