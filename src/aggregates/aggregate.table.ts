/**
 * The continuous aggregates as Kysely sees them (read-only views). The hourly and the
 * quarter-hour view of a stream have the same columns: sums, counts and extremes per device
 * and bucket, never averages, so any set of buckets combines exactly.
 */
export interface MeterAggregateView {
  meter_id: string;
  bucket: Date;
  kwh_consumed_ac: number;
  readings: number;
  voltage_sum: number;
  voltage_min: number;
  voltage_max: number;
}

export interface VehicleAggregateView {
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
