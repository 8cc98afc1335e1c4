import { HOUR_MS } from '../time.js';
import type { MeterReading, ReadingKind, VehicleReading } from './reading.js';

/**
 * Readings newer than this are "live": above every aggregate's refresh window (the
 * policies end an hour before now), so TimescaleDB logs no invalidation for them and a
 * batch of them costs no refresh later. Older ones are "late".
 */
export const LIVE_READING_AGE_MS = 2 * HOUR_MS;

/** One request waiting in the ingest queue, with what batch selection needs to know of it. */
export interface QueuedRequest {
  stream: ReadingKind;
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
  const spans: Partial<Record<ReadingKind, { first: number; last: number }>> = {};
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
