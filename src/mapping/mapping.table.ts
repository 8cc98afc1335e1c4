import type { Generated } from 'kysely';

export interface VehicleMeterMappingTable {
  vehicle_id: string;
  meter_id: string;
  updated_at: Generated<Date>;
}
