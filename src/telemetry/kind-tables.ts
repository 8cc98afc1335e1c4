import type { ReadingKind } from './reading.js';

/** Each reading kind's raw hypertable, live table, device column and energy column, for SQL written per kind. */
export const KIND_TABLES = {
  meter: { history: 'meter_telemetry_history', live: 'meter_live', id: 'meter_id', energy: 'kwh_consumed_ac' },
  vehicle: { history: 'vehicle_telemetry_history', live: 'vehicle_live', id: 'vehicle_id', energy: 'kwh_delivered_dc' },
} as const satisfies Record<ReadingKind, Record<'history' | 'live' | 'id' | 'energy', string>>;
