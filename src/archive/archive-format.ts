import type { ReadingKind } from '../telemetry/reading.js';
import { REGISTER_EVENTS, type RegisterEvent } from '../telemetry/register-event.js';

/**
 * What an archived chunk holds, per stream: the raw hypertable's columns, as they are. Readers
 * check the version in the file's key-value metadata. Timestamps are kept in microseconds
 * (PostgreSQL's own precision: device timestamps arrive at milliseconds, but `received_at` is
 * the server's now() at microseconds), so every value round-trips exactly.
 *
 * Versions of the object layout:
 *   1  device, ts, the value columns, received_at
 *   2  the same, then kwh_register and register_event (register readings, migration 0009)
 * Objects are written at `SCHEMA_VERSION`; every version in `READABLE_SCHEMA_VERSIONS` reads
 * back (a version 1 object predates register readings: its rows read as interval readings, both
 * columns null).
 */
export const SCHEMA_VERSION = 2;
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2];

export interface StreamFormat {
  stream: ReadingKind;
  hypertable: 'meter_telemetry_history' | 'vehicle_telemetry_history';
  deviceColumn: 'meter_id' | 'vehicle_id';
  /** The double precision columns, in table order. */
  valueColumns: readonly string[];
}

export const STREAM_FORMATS: Record<ReadingKind, StreamFormat> = {
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

export const STREAMS = Object.keys(STREAM_FORMATS) as ReadingKind[];

export function formatOfHypertable(hypertable: string): StreamFormat {
  const format = Object.values(STREAM_FORMATS).find((f) => f.hypertable === hypertable);
  if (!format) throw new Error(`${hypertable} is not an archived hypertable`);
  return format;
}

/**
 * One raw row in archive form: timestamps as microseconds since the epoch (exact in a double up
 * to the year 2255), values in the stream's valueColumns order. `kwhRegister` is the NUMERIC's
 * text as PostgreSQL prints it (`kwh_register::text`), never a number: a double would round
 * some registers and lose the scale ('1000.40' is not '1000.4' to a digest). Both register
 * columns are null for an interval reading.
 */
export interface ArchiveRow {
  device: string;
  tsUs: number;
  values: number[];
  receivedAtUs: number;
  kwhRegister: string | null;
  registerEvent: RegisterEvent | null;
}

/**
 * The fixed object key of a chunk: Hive-style partitions, the chunk id naming the file. The
 * version in it is the layout's when the chunk's manifest row was created; the key never changes
 * afterwards, so a chunk first tried under an older version and exported later keeps its key
 * with the newer layout inside: readers go by the file's metadata, never by the key.
 */
export function objectKey(prefix: string, stream: ReadingKind, rangeStart: Date, chunkId: number): string {
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

/**
 * A register as PostgreSQL prints a NUMERIC (`kwh_register::text`): digits, optionally a point
 * and more digits, never an exponent. Anything else in an object or a result is not a register.
 */
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;

export function registerTextOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) throw new Error('archive register not a decimal text');
  return value;
}

export function registerEventOf(value: unknown): RegisterEvent | null {
  if (value === null || value === undefined) return null;
  const event = REGISTER_EVENTS.find((candidate) => candidate === value);
  if (!event) throw new Error(`archive register event ${JSON.stringify(value)} unknown`);
  return event;
}

/**
 * `archive -- query` output, in the object's column order. Timestamps with their microseconds;
 * device ids quoted in CSV (they may hold commas). The register as its exact decimal text: a
 * JSON string in NDJSON (a JSON number would be parsed into a double, rounded), bare in CSV. An
 * interval reading's register and event are null in NDJSON, empty in CSV.
 */
export const csvHeader = (format: StreamFormat): string =>
  [format.deviceColumn, 'ts', ...format.valueColumns, 'received_at', 'kwh_register', 'register_event'].join(',');

export const csvLine = (row: ArchiveRow): string =>
  [
    JSON.stringify(row.device),
    usToIso(row.tsUs),
    ...row.values,
    usToIso(row.receivedAtUs),
    row.kwhRegister ?? '',
    row.registerEvent ?? '',
  ].join(',');

export const ndjsonLine = (format: StreamFormat, row: ArchiveRow): string =>
  JSON.stringify({
    [format.deviceColumn]: row.device,
    ts: usToIso(row.tsUs),
    ...Object.fromEntries(format.valueColumns.map((column, i) => [column, row.values[i]])),
    received_at: usToIso(row.receivedAtUs),
    kwh_register: row.kwhRegister,
    register_event: row.registerEvent,
  });
