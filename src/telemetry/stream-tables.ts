import type { Stream } from './reading.js';

/** Each stream's raw hypertable, live table, device column and energy column, for SQL written per stream. */
export const STREAM_TABLES = {
  meter: { history: 'meter_telemetry_history', live: 'meter_live', id: 'meter_id', energy: 'kwh_consumed_ac' },
  vehicle: { history: 'vehicle_telemetry_history', live: 'vehicle_live', id: 'vehicle_id', energy: 'kwh_delivered_dc' },
} as const satisfies Record<Stream, Record<'history' | 'live' | 'id' | 'energy', string>>;
