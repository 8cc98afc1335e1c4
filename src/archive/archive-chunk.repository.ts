import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import { REGISTER_EVENTS, type RegisterEvent } from '../telemetry/register-event.js';
import { aggregateCoverageProblems } from '../timescaledb/timescaledb-catalog.repository.js';
import type { ChunkRef } from './archive-catalog.repository.js';
import type { Claim } from './archive-claims.repository.js';
import { registerEventOf, registerTextOf, usToIso, type ArchiveRow, type StreamFormat } from './archive-format.js';
import { noEvents, type ChunkSummary, type DeviceSummary } from './chunk-summary.js';

/* The SQL over one chunk's rows: read them for the export, summarize them, drop them. */

/**
 * Rows of one chunk's range after `after` (device, time order: the primary key's), at most
 * `limit`. The register as text: the driver would parse a NUMERIC into a double.
 */
export async function readChunkRows(
  db: Db,
  format: StreamFormat,
  range: { rangeStart: Date; rangeEnd: Date },
  after: { device: string; tsUs: number } | undefined,
  limit: number,
): Promise<ArchiveRow[]> {
  const device = sql.ref(format.deviceColumn);
  const values = sql.join(format.valueColumns.map((column, i) => sql`${sql.ref(column)} AS ${sql.raw(`v${i}`)}`));
  const keyset = after ? sql`AND (${device}, ts) > (${after.device}, ${usToIso(after.tsUs)}::timestamptz)` : sql``;
  const result = await sql<Record<string, unknown>>`
    SELECT ${device} AS device, ${epochUs(sql`ts`)} AS ts_us, ${epochUs(sql`received_at`)} AS received_us, ${values},
           kwh_register::text AS kwh_register, register_event
      FROM ${sql.table(format.hypertable)}
     WHERE ts >= ${range.rangeStart} AND ts < ${range.rangeEnd} ${keyset}
     ORDER BY ${device}, ts
     LIMIT ${limit}`.execute(db);
  return result.rows.map((row) => ({
    device: String(row.device),
    tsUs: Number(row.ts_us),
    receivedAtUs: Number(row.received_us),
    values: format.valueColumns.map((_, i) => Number(row[`v${i}`])),
    kwhRegister: registerTextOf(row.kwh_register),
    registerEvent: registerEventOf(row.register_event),
  }));
}

/**
 * The chunk's summary computed by the database (see chunk-summary.ts: the same figures, the
 * same additions in the same order as the job's, so equal data compares bit-equal).
 */
export async function summarizeRange(
  db: Db,
  format: StreamFormat,
  range: { rangeStart: Date; rangeEnd: Date },
): Promise<ChunkSummary> {
  const device = sql.ref(format.deviceColumn);
  const sums = sql.join(format.valueColumns.map((column) => sql`sum(${sql.ref(column)} ORDER BY ts)::text`));
  const events = sql.join(
    REGISTER_EVENTS.map((event) => sql`${event}::text, count(*) FILTER (WHERE register_event = ${event})`),
  );
  // registerDigestLine's text, joined in time order: the same bytes the job hashes row by row.
  const digestLine = sql`${epochUs(sql`ts`)}::text || ':' || kwh_register::text || ':' || coalesce(register_event, '')`;
  const result = await sql<{
    device: string;
    rows: number;
    first_us: number;
    last_us: number;
    ts_sum: string;
    sums: string[];
    registers: number;
    events: Record<RegisterEvent, number>;
    register_digest: string | null;
  }>`
    SELECT ${device} AS device, count(*) AS rows, ${epochUs(sql`min(ts)`)} AS first_us, ${epochUs(sql`max(ts)`)} AS last_us,
           sum(${epochUs(sql`ts`)})::text AS ts_sum, ARRAY[${sums}]::text[] AS sums,
           count(kwh_register) AS registers, jsonb_build_object(${events}) AS events,
           encode(sha256(convert_to(
             string_agg(${digestLine}, E'\\n' ORDER BY ts) FILTER (WHERE kwh_register IS NOT NULL), 'UTF8')), 'hex')
             AS register_digest
      FROM ${sql.table(format.hypertable)}
     WHERE ts >= ${range.rangeStart} AND ts < ${range.rangeEnd}
     GROUP BY ${device}`.execute(db);
  const devices = Object.create(null) as Record<string, DeviceSummary>;
  let rows = 0;
  let minUs: number | null = null;
  let maxUs: number | null = null;
  for (const row of result.rows) {
    devices[row.device] = {
      rows: row.rows,
      firstUs: row.first_us,
      lastUs: row.last_us,
      tsSumUs: row.ts_sum,
      sums: row.sums.map(Number),
      registers: row.registers,
      events: { ...noEvents(), ...row.events },
      registerDigest: row.register_digest,
    };
    rows += row.rows;
    minUs = minUs === null ? row.first_us : Math.min(minUs, row.first_us);
    maxUs = maxUs === null ? row.last_us : Math.max(maxUs, row.last_us);
  }
  return { rows, minUs, maxUs, devices };
}

/**
 * Drops one verified chunk, in ONE transaction with the manifest's `dropped` status:
 * 1. lock the chunk against writes (SHARE: readers go on, inserts wait),
 * 2. summarize it again and let `check` compare with the manifest (it throws on a difference:
 *    a row written after the export would otherwise be dropped unarchived),
 * 3. refuse while the continuous aggregates over the chunk do not hold exactly its rows (a late
 *    reading not yet refreshed, a stalled policy): below the archived boundary the aggregates are
 *    what analytics read, so a drop now would lose that reading from every answer,
 * 4. drop_chunks over exactly the chunk's range, and make sure it dropped this chunk and no other,
 * 5. mark the manifest row dropped (only if this instance still holds the claim).
 * Any failure rolls all of it back: the chunk stays, the manifest says it is not dropped.
 */
export async function dropVerifiedChunk(
  db: Db,
  claim: Claim,
  format: StreamFormat,
  chunk: ChunkRef,
  check: (current: ChunkSummary) => void,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // The summary scans the whole chunk (millions of rows at full load): longer than a request's
    // statement timeout may allow, so this transaction gets its own bound.
    await sql`SET LOCAL statement_timeout = '30min'`.execute(trx);
    await sql`LOCK TABLE ${sql.id(chunk.schema, chunk.table)} IN SHARE MODE`.execute(trx);
    check(await summarizeRange(trx, format, chunk));
    const uncovered = await aggregateCoverageProblems(trx, format.hypertable, chunk.rangeStart, chunk.rangeEnd);
    if (uncovered.length > 0) {
      throw new Error(`the aggregates do not yet cover the chunk exactly: ${uncovered.join('; ')}`);
    }
    const dropped = await sql<{ name: string }>`
      SELECT drop_chunks(${format.hypertable}::regclass,
                         older_than => ${chunk.rangeEnd}::timestamptz,
                         newer_than => ${chunk.rangeStart}::timestamptz)::text AS name`.execute(trx);
    const names = dropped.rows.map((row) => row.name);
    const expected = `${chunk.schema}.${chunk.table}`;
    if (names.length !== 1 || names[0] !== expected) {
      throw new Error(`drop_chunks dropped ${names.join(', ') || 'nothing'} instead of ${expected}`);
    }
    const updated = await trx
      .updateTable('archive_manifest')
      .set({
        status: 'dropped',
        dropped_at: sql<Date>`now()`,
        failures: 0,
        last_error: null,
        claimed_by: null,
        claimed_until: null,
        hold_until: null,
        updated_at: sql<Date>`now()`,
      })
      .where('hypertable', '=', format.hypertable)
      .where('range_start', '=', chunk.rangeStart)
      .where('status', 'in', ['verified', 'dropped'])
      .where('claimed_by', '=', claim.owner)
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw new Error('the manifest row is no longer verified, or the claim was lost');
  });
}

/** Microseconds since the epoch of a timestamptz expression, exactly (extract gives numeric). */
const epochUs = (expression: ReturnType<typeof sql>) => sql`(extract(epoch FROM ${expression}) * 1000000)::int8`;
