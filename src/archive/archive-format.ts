import type { Stream } from '../telemetry/reading.js';

/**
 * What an archived chunk holds, per stream: the raw hypertable's columns, as they are. Version 1
 * of the object layout; readers check `SCHEMA_VERSION` in the file's key-value metadata.
 * Timestamps are kept in microseconds (PostgreSQL's own precision: device timestamps arrive at
 * milliseconds, but `received_at` is the server's now() at microseconds), so every value
 * round-trips exactly.
 */
export const SCHEMA_VERSION = 1;

export interface StreamFormat {
  stream: Stream;
  hypertable: 'meter_telemetry_history' | 'vehicle_telemetry_history';
  deviceColumn: 'meter_id' | 'vehicle_id';
  /** The double precision columns, in table order. */
  valueColumns: readonly string[];
}

export const STREAM_FORMATS: Record<Stream, StreamFormat> = {
  meter: {
    stream: 'meter',
    hypertable: 'meter_telemetry_history',
    deviceColumn: 'meter_id',
    valueColumns: ['kwh_consumed_ac', 'voltage'],
  },
  vehicle: {
    stream: 'vehicle',
    hypertable: 'vehicle_telemetry_history',
    deviceColumn: 'vehicle_id',
    valueColumns: ['soc', 'kwh_delivered_dc', 'battery_temp'],
  },
};

export const STREAMS = Object.keys(STREAM_FORMATS) as Stream[];

export function formatOfHypertable(hypertable: string): StreamFormat {
  const format = Object.values(STREAM_FORMATS).find((f) => f.hypertable === hypertable);
  if (!format) throw new Error(`${hypertable} is not an archived hypertable`);
  return format;
}

/**
 * One raw row in archive form: timestamps as microseconds since the epoch (exact in a double up
 * to the year 2255), values in the stream's valueColumns order.
 */
export interface ArchiveRow {
  device: string;
  tsUs: number;
  values: number[];
  receivedAtUs: number;
}

/** The fixed object key of a chunk: Hive-style partitions, the chunk id naming the file. */
export function objectKey(prefix: string, stream: Stream, rangeStart: Date, chunkId: number): string {
  const date = rangeStart.toISOString().slice(0, 10);
  const base = prefix.replace(/\/+$/, '');
  return `${base ? `${base}/` : ''}v${SCHEMA_VERSION}/stream=${stream}/date=${date}/chunk-${chunkId}.parquet`;
}

/** An instant in microseconds as an ISO timestamp with six decimals, which PostgreSQL reads exactly. */
export function usToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = us - ms * 1000;
  return new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}
