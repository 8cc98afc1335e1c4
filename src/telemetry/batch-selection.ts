import { HOUR_MS } from '../time.js';
import { deviceIdOf, type MeterReading, type ReadingsByStream, type Stream, type VehicleReading } from './reading.js';

/**
 * Readings newer than this are "live": above every aggregate's refresh window (the
 * policies end an hour before now), so TimescaleDB logs no invalidation for them and a
 * batch of them costs no refresh later. Older ones are "late".
 */
export const LIVE_READING_AGE_MS = 2 * HOUR_MS;

/** One request waiting in the ingest queue, with what batch selection needs to know of it. */
export interface QueuedRequest {
  stream: Stream;
  readings: MeterReading[] | VehicleReading[];
  live: boolean;
  /** First and last UTC hour (epoch hours) its readings fall in. */
  hours: { first: number; last: number };
}

/** Describes a request for batch selection; `now` decides whether it is live. */
export function describeRequest(
  readings: MeterReading[] | VehicleReading[],
  now: number,
): Omit<QueuedRequest, 'stream' | 'readings'> {
  let oldest = Infinity;
  let newest = -Infinity;
  for (const reading of readings) {
    const ms = reading.timestamp.getTime();
    if (ms < oldest) oldest = ms;
    if (ms > newest) newest = ms;
  }
  return {
    live: oldest >= now - LIVE_READING_AGE_MS,
    hours: { first: Math.floor(oldest / HOUR_MS), last: Math.floor(newest / HOUR_MS) },
  };
}

/**
 * Which waiting requests go into the next batch (indexes into `pending`, oldest first).
 *
 * Why batches are chosen this way: TimescaleDB records ONE invalidated range per
 * transaction and hypertable, from its oldest to its newest change, and the refresh
 * policies later re-aggregate that whole range for every device. A batch that merged a
 * 20-day-old reading with a 90-minute-old one would make them re-aggregate 20 days of the
 * whole fleet. So:
 * - live requests merge freely (they invalidate nothing);
 * - a late request joins a batch only if its hours overlap or touch the hours the batch
 *   already spans for that stream, so the invalidated ranges cover the hours that received
 *   readings and little more;
 * - when both kinds wait, batches alternate (`lateTurn`), so live readings wait for at most
 *   one late batch and a late backlog still drains.
 * A batch holds whole requests, at most `maxReadings` readings (always at least one request).
 */
export function selectBatch(pending: readonly QueuedRequest[], maxReadings: number, lateTurn: boolean): number[] {
  const hasLive = pending.some((request) => request.live);
  const hasLate = pending.some((request) => !request.live);
  const live = hasLive && !(lateTurn && hasLate);
  const spans: Partial<Record<Stream, { first: number; last: number }>> = {};
  const chosen: number[] = [];
  let readings = 0;
  for (const [index, request] of pending.entries()) {
    if (request.live !== live) continue;
    const span = spans[request.stream];
    if (!live && span && (request.hours.first > span.last + 1 || request.hours.last < span.first - 1)) continue;
    if (chosen.length > 0 && readings + request.readings.length > maxReadings) break;
    if (!live) {
      spans[request.stream] = {
        first: Math.min(span?.first ?? Infinity, request.hours.first),
        last: Math.max(span?.last ?? -Infinity, request.hours.last),
      };
    }
    chosen.push(index);
    readings += request.readings.length;
  }
  return chosen;
}

/** A batch ready to write: each (stream, device, ts) once, and who sent each row. */
export interface DedupedBatch {
  rows: ReadingsByStream;
  /** Per stream and row, the index (in the batch) of the request that carried it first. */
  owners: ReadingsByStream<number>;
  /** Per request, the readings it contributed (not repeated earlier in the batch). */
  contributed: number[];
}

/** A (stream, device, ts) seen earlier in the batch is a duplicate: the first one wins. */
export function dedupeBatch(requests: readonly Pick<QueuedRequest, 'stream' | 'readings'>[]): DedupedBatch {
  const rows: ReadingsByStream = { meter: [], vehicle: [] };
  const owners: ReadingsByStream<number> = { meter: [], vehicle: [] };
  const seen = new Set<string>();
  const contributed = requests.map(() => 0);
  requests.forEach((request, index) => {
    for (const reading of request.readings) {
      const key = `${request.stream}\u0000${deviceIdOf(reading)}\u0000${reading.timestamp.getTime()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      (rows[request.stream] as (MeterReading | VehicleReading)[]).push(reading);
      owners[request.stream].push(index);
      contributed[index]! += 1;
    }
  });
  return { rows, owners, contributed };
}

/**
 * Positions of `readings` grouped into runs of touching UTC hours, oldest run first. A
 * batch is written one run per transaction, so the range TimescaleDB invalidates (oldest to
 * newest change of each transaction) covers the hours that received readings, even when one
 * request holds a 20-day-old and a 90-minute-old reading.
 */
export function hourRuns(readings: readonly { timestamp: Date }[]): number[][] {
  // The usual case (a live batch, a backfill of neighbouring hours) is one run: no sort.
  const hours = new Set(readings.map((reading) => Math.floor(reading.timestamp.getTime() / HOUR_MS)));
  if (hours.size > 0 && Math.max(...hours) - Math.min(...hours) === hours.size - 1) return [readings.map((_, i) => i)];
  const order = readings
    .map((reading, position) => ({ position, hour: Math.floor(reading.timestamp.getTime() / HOUR_MS) }))
    .sort((a, b) => a.hour - b.hour);
  const runs: number[][] = [];
  let lastHour = -Infinity;
  for (const { position, hour } of order) {
    if (hour > lastHour + 1) runs.push([]);
    runs.at(-1)!.push(position);
    lastHour = hour;
  }
  return runs;
}

/** Part of a batch, and the position in the batch of each of its readings. */
export interface BatchSlice {
  rows: ReadingsByStream;
  positions: ReadingsByStream<number>;
}

/**
 * A batch cut into its runs of touching hours (`hourRuns`), the i-th meter run with the i-th
 * vehicle run (different hypertables, each with its own invalidated range): what one
 * transaction writes. A live batch, or late readings of neighbouring hours, is one slice.
 */
export function batchSlices(batch: ReadingsByStream): BatchSlice[] {
  const meterRuns = hourRuns(batch.meter);
  const vehicleRuns = hourRuns(batch.vehicle);
  return Array.from({ length: Math.max(meterRuns.length, vehicleRuns.length) }, (_, i) => {
    const positions = { meter: meterRuns[i] ?? [], vehicle: vehicleRuns[i] ?? [] };
    return {
      rows: {
        meter: positions.meter.map((position) => batch.meter[position]!),
        vehicle: positions.vehicle.map((position) => batch.vehicle[position]!),
      },
      positions,
    };
  });
}
