import { sql, type Selectable } from 'kysely';

import type { Db } from '../db/database.js';
import { REGISTER_EVENTS, type RegisterEvent } from '../telemetry/register-event.js';
import { aggregateCoverageProblems, chunkIdOf } from '../timescaledb/timescaledb-catalog.repository.js';
import { registerEventOf, registerTextOf, usToIso, type ArchiveRow, type StreamFormat } from './archive-format.js';
import type { ArchiveManifestTable, ArchiveStatus } from './archive.table.js';
import { noEvents, type ChunkSummary, type DeviceSummary } from './chunk-summary.js';

export type ManifestRow = Selectable<ArchiveManifestTable>;

export interface ArchiveSetting {
  hypertable: string;
  stream: 'meter' | 'vehicle';
  enabled: boolean;
  hotPeriodMs: number;
  runIntervalMs: number;
}

export async function readArchiveSettings(db: Db): Promise<ArchiveSetting[]> {
  const result = await sql<{
    hypertable: string;
    stream: 'meter' | 'vehicle';
    enabled: boolean;
    hot_ms: number;
    run_ms: number;
  }>`
    SELECT hypertable, stream, enabled,
           (extract(epoch FROM hot_period) * 1000)::float8 AS hot_ms,
           (extract(epoch FROM run_interval) * 1000)::float8 AS run_ms
      FROM archive_settings ORDER BY hypertable`.execute(db);
  return result.rows.map((row) => ({
    hypertable: row.hypertable,
    stream: row.stream,
    enabled: row.enabled,
    hotPeriodMs: row.hot_ms,
    runIntervalMs: row.run_ms,
  }));
}

/** A chunk of a raw hypertable, as TimescaleDB's catalog describes it. */
export interface ChunkRef {
  chunkId: number;
  schema: string;
  table: string;
  rangeStart: Date;
  rangeEnd: Date;
  compressed: boolean;
}

/** The chunks of `hypertable` that end at or before `olderThan`, oldest first. */
export async function listChunksEndingBy(db: Db, hypertable: string, olderThan: Date): Promise<ChunkRef[]> {
  const result = await sql<{
    chunk_id: number;
    chunk_schema: string;
    chunk_name: string;
    range_start: Date;
    range_end: Date;
    is_compressed: boolean;
  }>`
    SELECT ${chunkIdOf('c.chunk_schema', 'c.chunk_name')} AS chunk_id, c.chunk_schema, c.chunk_name, c.range_start,
           c.range_end, c.is_compressed
      FROM timescaledb_information.chunks c
     WHERE c.hypertable_schema = current_schema() AND c.hypertable_name = ${hypertable}
       AND c.range_end <= ${olderThan}
     ORDER BY c.range_start`.execute(db);
  return result.rows.map((row) => ({
    chunkId: row.chunk_id,
    schema: row.chunk_schema,
    table: row.chunk_name,
    rangeStart: row.range_start,
    rangeEnd: row.range_end,
    compressed: row.is_compressed,
  }));
}

/** Who holds a chunk's manifest row, for how long: every write after the claim checks it. */
export interface Claim {
  hypertable: string;
  rangeStart: Date;
  owner: string;
  leaseMs: number;
}

/** A write under a claim found the row claimed by another instance (its lease had lapsed). */
export class ClaimLostError extends Error {
  constructor() {
    super('the claim on this chunk was lost to another instance');
  }
}

const leaseEnd = (leaseMs: number) => sql<Date>`now() + ${leaseMs}::float8 * interval '1 millisecond'`;

/**
 * Claims a chunk for one archiver (a lease until `leaseMs` from now), creating its manifest row
 * with the fixed object key on first sight. Returns the row when claimed, undefined when another
 * instance holds an unexpired lease. The key is never updated: whoever archives the range later
 * writes the same object.
 */
export async function claimChunk(
  db: Db,
  hypertable: string,
  chunk: ChunkRef,
  objectKey: string,
  owner: string,
  leaseMs: number,
): Promise<ManifestRow | undefined> {
  const until = leaseEnd(leaseMs);
  return db
    .insertInto('archive_manifest')
    .values({
      hypertable,
      range_start: chunk.rangeStart,
      range_end: chunk.rangeEnd,
      chunk_id: chunk.chunkId,
      object_key: objectKey,
      claimed_by: owner,
      claimed_until: until,
    })
    .onConflict((oc) =>
      oc
        .columns(['hypertable', 'range_start'])
        .doUpdateSet({ claimed_by: owner, claimed_until: until, updated_at: sql<Date>`now()` })
        .where((eb) =>
          eb.or([
            eb('archive_manifest.claimed_until', 'is', null),
            eb('archive_manifest.claimed_until', '<', sql<Date>`now()`),
            eb('archive_manifest.claimed_by', '=', owner),
          ]),
        ),
    )
    .returningAll()
    .executeTakeFirst();
}

export async function releaseClaim(db: Db, claim: Claim): Promise<void> {
  await db
    .updateTable('archive_manifest')
    .set({ claimed_by: null, claimed_until: null })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .execute();
}

/**
 * Extends the lease (during a long export); throws when it was lost (expired and taken by
 * another instance): the work stops before it writes anything the other one relies on.
 */
export async function renewClaim(db: Db, claim: Claim): Promise<void> {
  const result = await db
    .updateTable('archive_manifest')
    .set({ claimed_until: leaseEnd(claim.leaseMs) })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ClaimLostError();
}

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

/** Records what was uploaded (status uploaded) or read back equal (verified). */
export async function recordObject(
  db: Db,
  claim: Claim,
  status: Extract<ArchiveStatus, 'uploaded' | 'verified'>,
  details: { schemaVersion: number; summary: ChunkSummary; sha256: string; bytes: number },
): Promise<void> {
  const { summary } = details;
  const result = await db
    .updateTable('archive_manifest')
    .set({
      status,
      schema_version: details.schemaVersion,
      row_count: summary.rows,
      min_ts: summary.minUs === null ? null : new Date(Math.floor(summary.minUs / 1000)),
      max_ts: summary.maxUs === null ? null : new Date(Math.floor(summary.maxUs / 1000)),
      // As text: a jsonb-typed parameter would be encoded as JSON once more (a JSON string).
      device_summary: sql<ChunkSummary>`${JSON.stringify(summary)}::text::jsonb`,
      sha256: details.sha256,
      bytes: details.bytes,
      verified_at: status === 'verified' ? sql<Date>`now()` : null,
      claimed_until: leaseEnd(claim.leaseMs),
      updated_at: sql<Date>`now()`,
    })
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    .where('claimed_by', '=', claim.owner)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ClaimLostError();
}

/**
 * A failed attempt: counted, its error kept, the claim released. `resetToPending` when what the
 * manifest says can no longer be trusted (the chunk changed after its export), so the next run
 * exports and uploads again (to the same key).
 */
export async function recordFailure(db: Db, claim: Claim, error: string, resetToPending: boolean): Promise<void> {
  await db
    .updateTable('archive_manifest')
    .set((eb) => ({
      failures: eb('failures', '+', 1),
      last_error: error.slice(0, 2000),
      last_failed_at: sql<Date>`now()`,
      claimed_by: null,
      claimed_until: null,
      updated_at: sql<Date>`now()`,
      ...(resetToPending ? { status: 'pending' as const } : {}),
    }))
    .where('hypertable', '=', claim.hypertable)
    .where('range_start', '=', claim.rangeStart)
    // Only the holder records: an instance that lost its lease must not mark a chunk another
    // one has archived since as failing.
    .where('claimed_by', '=', claim.owner)
    .execute();
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

/** Manifest rows whose objects hold readings in [from, to), oldest first. */
export async function listArchivedObjects(
  db: Db,
  hypertable: string,
  range: { from: Date; to: Date },
): Promise<ManifestRow[]> {
  return db
    .selectFrom('archive_manifest')
    .selectAll()
    .where('hypertable', '=', hypertable)
    .where('status', 'in', ['verified', 'dropped'])
    .where('range_start', '<', range.to)
    .where('range_end', '>', range.from)
    .orderBy('range_start')
    .execute();
}

/** Keeps restored chunks from being dropped again before `until`. */
export async function holdRestored(db: Db, hypertable: string, rangeStarts: Date[], until: Date): Promise<void> {
  if (rangeStarts.length === 0) return;
  await db
    .updateTable('archive_manifest')
    .set({ hold_until: until, updated_at: sql<Date>`now()` })
    .where('hypertable', '=', hypertable)
    .where('range_start', 'in', rangeStarts)
    .execute();
}

/**
 * Inserts archived rows back; rows already stored are skipped. Returns how many were inserted.
 * Registers go back from their text (`::numeric` keeps every digit and the scale) with their
 * events as archived: the energies derived from them are archived too, so nothing is derived again.
 */
export async function insertArchivedRows(db: Db, format: StreamFormat, rows: ArchiveRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = sql.join([
    sql.ref(format.deviceColumn),
    sql`ts`,
    ...format.valueColumns.map((c) => sql.ref(c)),
    sql`received_at`,
    sql`kwh_register`,
    sql`register_event`,
  ]);
  const values = format.valueColumns.map((_, i) => sql`${rows.map((r) => r.values[i]!)}::float8[]`);
  const result = await sql<{ n: number }>`
    WITH inserted AS (
      INSERT INTO ${sql.table(format.hypertable)} (${columns})
      SELECT * FROM unnest(
        ${rows.map((r) => r.device)}::text[],
        ${rows.map((r) => usToIso(r.tsUs))}::timestamptz[],
        ${sql.join(values)},
        ${rows.map((r) => usToIso(r.receivedAtUs))}::timestamptz[],
        ${rows.map((r) => r.kwhRegister)}::numeric[],
        ${rows.map((r) => r.registerEvent)}::text[])
      ON CONFLICT DO NOTHING
      RETURNING 1)
    SELECT count(*) AS n FROM inserted`.execute(db);
  return result.rows[0]?.n ?? 0;
}

export interface FailingChunk {
  stream: string;
  objectKey: string;
  rangeStart: Date;
  status: ArchiveStatus;
  failures: number;
  lastError: string | null;
  lastFailedAt: Date | null;
}

/** Chunks whose last archive attempt failed (they are still in the database). */
export async function listFailingChunks(db: Db): Promise<FailingChunk[]> {
  const rows = await db
    .selectFrom('archive_manifest as m')
    .innerJoin('archive_settings as s', 's.hypertable', 'm.hypertable')
    .select(['s.stream', 'm.object_key', 'm.range_start', 'm.status', 'm.failures', 'm.last_error', 'm.last_failed_at'])
    .where('m.failures', '>', 0)
    .orderBy('m.range_start')
    .execute();
  return rows.map((row) => ({
    stream: row.stream,
    objectKey: row.object_key,
    rangeStart: row.range_start,
    status: row.status,
    failures: row.failures,
    lastError: row.last_error,
    lastFailedAt: row.last_failed_at,
  }));
}

/** Microseconds since the epoch of a timestamptz expression, exactly (extract gives numeric). */
const epochUs = (expression: ReturnType<typeof sql>) => sql`(extract(epoch FROM ${expression}) * 1000000)::int8`;
