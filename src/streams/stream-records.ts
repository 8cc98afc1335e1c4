import { issuesToDetails } from '../http/validate.js';
import { meterBatchSchema, vehicleBatchSchema } from '../telemetry/ingestion.schema.js';
import type { MeterReading, ReadingKind, VehicleReading } from '../telemetry/reading.js';
import { registerPrecisionIssues } from '../telemetry/register-precision.js';
import { DAY_MS, HOUR_MS } from '../time.js';
import type { DeadLetterDetail, DeadLetterReason } from './stream.table.js';

/** A record as read from a shard (the SDK's shape, reduced to what is used). */
export interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  arrivedAt: Date | null;
  data: Uint8Array;
}

/** A record decoded: its readings, or why it is refused. */
export type DecodedRecord =
  | { record: StreamRecord; kind: ReadingKind; readings: MeterReading[] | VehicleReading[] }
  | { record: StreamRecord; kind: ReadingKind; refused: Refusal };

export interface Refusal {
  reason: DeadLetterReason;
  details: DeadLetterDetail[];
  /** Readings the record held (an array's length; 1 otherwise), counted as rejected. */
  readings: number;
}

export interface RecordRules {
  /** Oldest accepted reading, relative to now: the acceptance window of the HTTP API. */
  maxAgeMs: () => number;
  maxFutureMs: number;
  /** Readings one record may hold (the HTTP request limit). */
  maxReadings: number;
}

/**
 * Decodes the records of a stream of one kind with the HTTP body's schema (one reading or an
 * array; all or nothing per record). The acceptance window is checked apart from the schema
 * so that a record refused only for its age is dead-lettered as `too_old`: a backlog that
 * waited too long on the stream, not a faulty device.
 */
export function recordDecoder(kind: ReadingKind, rules: RecordRules): (record: StreamRecord) => DecodedRecord {
  // The schema's own age check is off (Infinity); the decoder applies it below.
  const limits = { maxAgeMs: () => Infinity, maxFutureMs: rules.maxFutureMs };
  const schema =
    kind === 'meter' ? meterBatchSchema(limits, rules.maxReadings) : vehicleBatchSchema(limits, rules.maxReadings);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  return (record) => {
    let body: unknown;
    let text: string;
    try {
      text = utf8.decode(record.data);
      body = JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { record, kind, refused: { reason: 'not_json', details: [{ path: '', message }], readings: 1 } };
    }
    const parsed = schema.safeParse(body);
    const count = Array.isArray(body) ? Math.max(1, body.length) : 1;
    if (!parsed.success) {
      const details = issuesToDetails(parsed.error.issues);
      return { record, kind, refused: { reason: 'invalid_readings', details, readings: count } };
    }
    const readings = parsed.data;
    const digits = registerPrecisionIssues(
      text,
      readings,
      kind === 'meter' ? 'kwhConsumedAcTotal' : 'kwhDeliveredDcTotal',
    );
    if (digits.length > 0) {
      return { record, kind, refused: { reason: 'invalid_readings', details: digits, readings: count } };
    }
    const maxAgeMs = rules.maxAgeMs();
    const oldest = Date.now() - maxAgeMs;
    const tooOld: DeadLetterDetail[] = [];
    readings.forEach((reading, index) => {
      if (reading.timestamp.getTime() < oldest) {
        const days = Math.floor((maxAgeMs / DAY_MS) * 100) / 100;
        tooOld.push({ index, path: 'timestamp', message: `must not be older than ${days} days (acceptance window)` });
      }
    });
    if (tooOld.length > 0) return { record, kind, refused: { reason: 'too_old', details: tooOld, readings: count } };
    return { record, kind, readings };
  };
}

/**
 * Splits a shard's records, in order, into the runs committed one transaction each: a run
 * ends where the next record's readings fall in hours that do not touch the run's, or where
 * it would exceed `maxReadings`. TimescaleDB invalidates one range per transaction and
 * hypertable (see batch-selection.ts), so a late record among live ones does not make the
 * refresh policies re-aggregate everything in between. Each run ends on a record, so its
 * checkpoint is exact.
 */
export function commitRuns(records: readonly DecodedRecord[], maxReadings: number): DecodedRecord[][] {
  const runs: DecodedRecord[][] = [];
  let span: { first: number; last: number } | undefined;
  let readings = 0;
  for (const decoded of records) {
    const hours = 'readings' in decoded ? hourSpan(decoded.readings) : undefined;
    const count = 'readings' in decoded ? decoded.readings.length : 0;
    const current = runs.at(-1);
    const apart = hours && span && (hours.first > span.last + 1 || hours.last < span.first - 1);
    if (!current || apart || (readings > 0 && readings + count > maxReadings)) {
      runs.push([decoded]);
      span = hours;
      readings = count;
      continue;
    }
    current.push(decoded);
    readings += count;
    if (hours)
      span = span ? { first: Math.min(span.first, hours.first), last: Math.max(span.last, hours.last) } : hours;
  }
  return runs;
}

function hourSpan(readings: readonly { timestamp: Date }[]): { first: number; last: number } {
  let first = Infinity;
  let last = -Infinity;
  for (const reading of readings) {
    const hour = Math.floor(reading.timestamp.getTime() / HOUR_MS);
    if (hour < first) first = hour;
    if (hour > last) last = hour;
  }
  return { first, last };
}
